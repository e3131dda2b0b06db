"""Checks a server's Open Inference Protocol (KServe V2) APIs with Triton's OFFICIAL clients,
tritonclient.http and tritonclient.grpc, unmodified.

Usage:
  python v2_client_check.py REST_HOST:PORT GRPC_HOST:PORT FIXTURES_DIR

The server must serve the fixture models as FIXTURES_DIR/model-config.yaml does. Every predict
case of FIXTURES_DIR/expected/*.json is sent three times: over REST with the client's defaults
(tensors as binary data after the JSON, both ways: Triton's binary tensor data extension), over
REST with JSON tensors (skipped where a string is not UTF-8, which JSON cannot carry), and over
gRPC (raw tensor contents). Outputs are read with `InferResult.as_numpy` and compared with the
expected ones: floats within 1e-5 relative, the rest exactly. Also server and model health,
metadata, and errors, over both.

Prints one line per check and ends with `N passed, M failed`; exits 1 if anything failed.
Run it with the python that scripts/python/ensure-python-env.sh prints.
"""

import base64
import glob
import json
import os
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.grpc import model_config_pb2
from check_runner import CheckFailed, CheckRunner
from tritonclient.utils import InferenceServerException, triton_to_np_dtype

RTOL = 1e-5
ATOL = 1e-7
DATATYPE = {
    "DT_FLOAT": "FP32",
    "DT_DOUBLE": "FP64",
    "DT_HALF": "FP16",
    "DT_INT8": "INT8",
    "DT_INT16": "INT16",
    "DT_INT32": "INT32",
    "DT_INT64": "INT64",
    "DT_UINT8": "UINT8",
    "DT_BOOL": "BOOL",
    "DT_STRING": "BYTES",
}


def decode(tensor):
    """Expected-JSON tensor (FIXTURES_DIR/README.md) -> numpy array."""
    values = tensor["values"]
    if tensor["dtype"] == "DT_STRING":
        flat = np.array([base64.b64decode(v) for v in values], dtype=np.object_)
    elif tensor["dtype"] == "DT_INT64":
        flat = np.array([int(v) for v in values], dtype=np.int64)
    else:
        flat = np.array(values, dtype=triton_to_np_dtype(DATATYPE[tensor["dtype"]]))
    return flat.reshape(tensor["shape"])


def is_utf8(tensor):
    if tensor["dtype"] != "DT_STRING":
        return True
    try:
        for v in tensor["values"]:
            base64.b64decode(v).decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def compare(what, actual, expected, dtype):
    if actual is None:
        raise CheckFailed(f"{what}: missing from the response")
    if list(actual.shape) != list(expected.shape):
        raise CheckFailed(f"{what}: shape {list(actual.shape)}, expected {list(expected.shape)}")
    if dtype in ("DT_FLOAT", "DT_DOUBLE", "DT_HALF"):
        bad = ~np.isclose(actual.astype(np.float64), expected.astype(np.float64), rtol=RTOL, atol=ATOL)
        if bad.any():
            i = int(np.argmax(bad.reshape(-1)))
            raise CheckFailed(f"{what}: element {i} is {actual.reshape(-1)[i]}, expected {expected.reshape(-1)[i]}")
        return
    if dtype == "DT_STRING":
        got = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in actual.reshape(-1)]
        if got != list(expected.reshape(-1)):
            raise CheckFailed(f"{what}: {got[:3]}..., expected {list(expected.reshape(-1))[:3]}...")
        return
    if not np.array_equal(actual.astype(expected.dtype), expected):
        raise CheckFailed(f"{what}: {actual.reshape(-1)[:5]}..., expected {expected.reshape(-1)[:5]}...")


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


class Checker(CheckRunner):
    """One pass with one client library: `api` is tritonclient.http or tritonclient.grpc."""

    def __init__(self, api, target, fixtures_dir):
        super().__init__()
        self.api = api
        self.client = api.InferenceServerClient(url=target)
        self.fixtures_dir = fixtures_dir
        self.prefix = "grpc " if api is grpcclient else ""

    def describe(self, error):
        return f"server error {error.status()}: {error.message()}" if isinstance(error, InferenceServerException) else None

    def infer_case(self, model, version, signature, case, binary):
        inputs = []
        for name, tensor in case["inputs"].items():
            value = self.api.InferInput(name, tensor["shape"], DATATYPE[tensor["dtype"]])
            if self.api is grpcclient:
                value.set_data_from_numpy(decode(tensor))
            else:
                value.set_data_from_numpy(decode(tensor), binary_data=binary)
            inputs.append(value)
        # The client's default asks for every output (binary over REST); the JSON run names them.
        outputs = None if binary else [httpclient.InferRequestedOutput(n, binary_data=False) for n in case["outputs"]]
        result = self.client.infer(model, inputs, model_version=str(version), outputs=outputs, parameters={"signature_name": signature})
        response = result.get_response(as_json=True) if self.api is grpcclient else result.get_response()
        expect(response["model_name"] == model, f"model_name {response['model_name']}")
        expect(response["model_version"] == str(version), f"model_version {response['model_version']}, expected {version}")
        for name, tensor in case["outputs"].items():
            compare(f"output {name}", result.as_numpy(name), decode(tensor), tensor["dtype"])

    def expect_error(self, fn, status, text):
        try:
            fn()
        except InferenceServerException as e:
            expect(str(e.status()) == str(status), f"status {e.status()}, expected {status} ({e.message()})")
            expect(text in e.message(), f"message {e.message()!r} does not say {text!r}")
            return
        raise CheckFailed("no error")

    def check(self, name, fn):
        super().check(self.prefix + name, fn)

    def metadata_of(self, call):
        """A metadata answer as JSON, with int64 fields (gRPC's strings) as numbers."""
        if self.api is httpclient:
            return call()
        meta = call(as_json=True)
        for tensor in meta.get("inputs", []) + meta.get("outputs", []):
            tensor["shape"] = [int(d) for d in tensor.get("shape", [])]
        return meta

    def run(self):
        c = self.client
        grpc = self.api is grpcclient
        self.check("server live", lambda: expect(c.is_server_live(), "not live"))
        self.check("server ready", lambda: expect(c.is_server_ready(), "not ready"))
        self.check("server metadata", lambda: expect("binary_tensor_data" in self.metadata_of(c.get_server_metadata)["extensions"], "no binary_tensor_data extension"))
        self.check("model ready", lambda: expect(c.is_model_ready("versioned") and c.is_model_ready("versioned", "2"), "versioned not ready"))
        self.check("unknown model not ready", lambda: expect(not c.is_model_ready("no_such_model_v2_check"), "an unknown model is ready"))

        def metadata():
            meta = self.metadata_of(lambda **kw: c.get_model_metadata("mnist", **kw))
            expect(meta["versions"] == ["1"], f"versions {meta['versions']}")
            expect(meta["inputs"] == [{"name": "images", "datatype": "FP32", "shape": [-1, 28, 28, 1]}], f"inputs {meta['inputs']}")

        self.check("model metadata", metadata)

        def model_config():
            # gRPC: decoded with Triton's own ModelConfig message, so field numbers and enums are checked too.
            if grpc:
                config = c.get_model_config("mnist").config
                tensors = [(t.name, model_config_pb2.DataType.Name(t.data_type), list(t.dims)) for t in config.input]
                batch = config.max_batch_size
            else:
                config = c.get_model_config("mnist")
                tensors = [(t["name"], t["data_type"], t["dims"]) for t in config["input"]]
                batch = config["max_batch_size"]
            expect(batch == 0, f"max_batch_size {batch}")
            expect(tensors == [("images", "TYPE_FP32", [-1, 28, 28, 1])], f"input {tensors}")

        self.check("model config", model_config)

        def repository_index():
            if grpc:
                index = [(m.name, m.version, m.state) for m in c.get_model_repository_index().models]
            else:
                index = [(m["name"], m.get("version"), m["state"]) for m in c.get_model_repository_index()]
            versioned = [entry for entry in index if entry[0] == "versioned"]
            expect(versioned == [("versioned", v, "READY") for v in ("3", "2", "1")], f"versioned in the index: {versioned}")

        self.check("repository index", repository_index)
        for path in sorted(glob.glob(os.path.join(self.fixtures_dir, "expected", "*.json"))):
            with open(path) as f:
                expected = json.load(f)
            model = expected["model"]
            versions = [(expected["version"], expected["signatures"])]
            versions += [(int(v), o["signatures"]) for v, o in expected.get("other_versions", {}).items()]
            for version, signatures in versions:
                for signature, sig in signatures.items():
                    if sig["method_name"] != "tensorflow/serving/predict":
                        continue
                    for i, case in enumerate(sig["cases"]):
                        name = f"{model} v{version} {signature} #{i}"
                        self.check(f"infer binary {name}", lambda m=model, v=version, s=signature, k=case: self.infer_case(m, v, s, k, True))
                        if not grpc and all(is_utf8(t) for t in list(case["inputs"].values()) + list(case["outputs"].values())):
                            self.check(f"infer json {name}", lambda m=model, v=version, s=signature, k=case: self.infer_case(m, v, s, k, False))

        def bad_datatype():
            value = self.api.InferInput("x", [1, 4], "FP64")
            value.set_data_from_numpy(np.zeros([1, 4], dtype=np.float64))
            self.expect_error(lambda: c.infer("tiny", [value]), "StatusCode.INVALID_ARGUMENT" if grpc else 400, "must be FP32, but the request has FP64")

        def unknown_model():
            value = self.api.InferInput("x", [1, 4], "FP32")
            value.set_data_from_numpy(np.zeros([1, 4], dtype=np.float32))
            self.expect_error(lambda: c.infer("no_such_model_v2_check", [value]), "StatusCode.NOT_FOUND" if grpc else 404, "no_such_model_v2_check")

        def compressed(algorithm):
            # Triton's clients compress requests on request; the answer must be the plain call's.
            value = self.api.InferInput("x", [2], "FP32")
            value.set_data_from_numpy(np.array([1.5, -2.0], dtype=np.float32))
            if grpc:
                result = c.infer("versioned", [value], model_version="2", compression_algorithm=algorithm)
            else:
                result = c.infer("versioned", [value], model_version="2", request_compression_algorithm=algorithm, response_compression_algorithm=algorithm)
            got = result.as_numpy("y").tolist()
            expect(got == [2.75, 1.0], f"y {got}, expected [2.75, 1.0]")

        for algorithm in ("gzip", "deflate"):
            self.check(f"infer, {algorithm} request", lambda a=algorithm: compressed(a))
        self.check("error: wrong datatype", bad_datatype)
        self.check("error: unknown model", unknown_model)

        def statistics():
            # After the calls above: tiny has served, and the wrong-datatype call failed on it.
            if grpc:
                stats = c.get_inference_statistics("tiny", "1").model_stats
                entry = {"version": stats[0].version, "success": stats[0].inference_stats.success.count, "fail": stats[0].inference_stats.fail.count,
                         "infer_ns": stats[0].inference_stats.compute_infer.ns, "executions": stats[0].execution_count}
            else:
                stats = c.get_inference_statistics("tiny", "1")["model_stats"]
                infer = stats[0]["inference_stats"]
                entry = {"version": stats[0]["version"], "success": infer["success"]["count"], "fail": infer["fail"]["count"],
                         "infer_ns": infer["compute_infer"]["ns"], "executions": stats[0]["execution_count"]}
            expect(len(stats) == 1 and entry["version"] == "1", f"statistics {stats}")
            expect(entry["success"] > 0 and entry["fail"] > 0 and entry["infer_ns"] > 0 and entry["executions"] > 0, f"statistics of tiny: {entry}")

        self.check("statistics", statistics)
        return self.failed == 0


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    rest_target, grpc_target, fixtures_dir = sys.argv[1:]
    checkers = [Checker(httpclient, rest_target, fixtures_dir), Checker(grpcclient, grpc_target, fixtures_dir)]
    for checker in checkers:
        checker.run()
    passed = sum(c.passed for c in checkers)
    failed = sum(c.failed for c in checkers)
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
