"""WebAssembly binary handling: section reading/writing, validation and build-time snapshots."""
