// The benchmark's peer-SDK filter: the same header work with the AssemblyScript Proxy-Wasm SDK.
export * from "@solo-io/proxy-runtime/proxy";
import {
  Context, FilterHeadersStatusValues, LogLevelValues, RootContext, log, registerRootContext,
  stream_context,
} from "@solo-io/proxy-runtime";

class BenchRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new BenchHeaders(context_id, this);
  }

  // The SDK's own onConfigure passes the size as a pointer and traps in Envoy; the benchmark
  // has no plugin configuration, so it accepts without reading one.
  onConfigure(configuration_size: u32): bool {
    return true;
  }

  onStart(vm_configuration_size: usize): bool {
    log(LogLevelValues.info, "bench vm started");
    return true;
  }
}

class BenchHeaders extends Context {
  sawPath: bool = false;

  constructor(context_id: u32, root_context: BenchRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    this.sawPath = stream_context.headers.request.get(":path") != "";
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.replace("x-bench", this.sawPath ? "path" : "empty");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new BenchRoot(context_id); }, "");
