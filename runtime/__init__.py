"""C sources of the embedded runtime, shipped as package data and compiled by the build."""
