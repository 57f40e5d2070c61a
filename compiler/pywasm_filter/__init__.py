"""pywasm-filter: compile Python Proxy-Wasm filters into modules that Envoy and WasmX run."""
