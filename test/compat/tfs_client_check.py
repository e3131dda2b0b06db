"""Checks a TF Serving-compatible gRPC server with the OFFICIAL TensorFlow Serving client.

Usage:
  python tfs_client_check.py HOST:PORT FIXTURES_DIR [--timeout SECONDS] [--tls-ca PEM [--tls-cert PEM --tls-key PEM]]
  python tfs_client_check.py --self-test

The server must serve the fixture models (FIXTURES_DIR/models/<name>) under their directory
names, with `versioned` serving all its versions and the labels stable -> 2, canary -> 3
(FIXTURES_DIR/model-config.yaml). Requests are built with the unmodified `tensorflow_serving.apis`
messages and `tf.make_tensor_proto`; responses are read with `tf.make_ndarray`, and compared with
FIXTURES_DIR/expected/*.json (format: FIXTURES_DIR/README.md): floats within 1e-5 relative,
integers, strings and bools exactly.

Prints one line per check and ends with `N passed, M failed`; exits 1 if anything failed.
Run it with the python that scripts/python/ensure-python-env.sh prints.
"""

import argparse
import base64
import glob
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.core.framework import types_pb2  # noqa: E402
from check_runner import CheckFailed, CheckRunner  # noqa: E402
from tensorflow_serving.apis import (  # noqa: E402
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

RTOL = 1e-5
# Softmax outputs have elements near zero, where a purely relative bound means bit equality.
ATOL = 1e-7
VERSION_LABELS = {"stable": 2, "canary": 3}
UNKNOWN_MODEL = "no_such_model_tfs_client_check"


# --- the expected JSON form -------------------------------------------------------------------

WIDE_INTS = {"DT_INT64", "DT_UINT64"}


def decode_tensor(tensor):
    """Expected-JSON tensor -> numpy array (see FIXTURES_DIR/README.md)."""
    dtype = tf.dtypes.as_dtype(types_pb2.DataType.Value(tensor["dtype"]))
    values = tensor["values"]
    if dtype == tf.string:
        flat = np.array([base64.b64decode(v) for v in values], dtype=object)
    elif tensor["dtype"] in WIDE_INTS:
        flat = np.array([int(v) for v in values], dtype=dtype.as_numpy_dtype)
    else:
        flat = np.array(values, dtype=dtype.as_numpy_dtype)
    return flat.reshape(tensor["shape"])


def compare_arrays(what, actual, expected, dtype_name):
    """Raises CheckFailed unless actual matches expected (shape, then values)."""
    if list(actual.shape) != list(expected.shape):
        raise CheckFailed(f"{what}: shape {list(actual.shape)}, expected {list(expected.shape)}")
    if dtype_name in ("DT_FLOAT", "DT_DOUBLE", "DT_HALF"):
        a = actual.astype(np.float64)
        e = expected.astype(np.float64)
        bad = ~np.isclose(a, e, rtol=RTOL, atol=ATOL)
        if bad.any():
            i = int(np.argmax(bad.reshape(-1)))
            raise CheckFailed(f"{what}: element {i} is {float(a.reshape(-1)[i])!r}, expected {float(e.reshape(-1)[i])!r} "
                              f"({int(bad.sum())} of {bad.size} differ)")
    else:
        a = actual.reshape(-1).tolist()
        e = expected.reshape(-1).tolist()
        for i, (x, y) in enumerate(zip(a, e)):
            if x != y:
                raise CheckFailed(f"{what}: element {i} is {x!r}, expected {y!r}")


def compare_tensor_proto(what, proto, expected):
    """A TensorProto from the server vs an expected-JSON tensor."""
    got_dtype = types_pb2.DataType.Name(proto.dtype)
    if got_dtype != expected["dtype"]:
        raise CheckFailed(f"{what}: dtype {got_dtype}, expected {expected['dtype']}")
    compare_arrays(what, tf.make_ndarray(proto), decode_tensor(expected), expected["dtype"])


def compare_outputs(what, outputs, expected_outputs):
    """The outputs map of a PredictResponse vs the expected outputs of a case."""
    if set(outputs.keys()) != set(expected_outputs.keys()):
        raise CheckFailed(f"{what}: output keys {sorted(outputs.keys())}, expected {sorted(expected_outputs)}")
    for key, expected in expected_outputs.items():
        compare_tensor_proto(f"{what} output {key}", outputs[key], expected)


def compare_classifications(result, case):
    classes = decode_tensor(case["outputs"]["classes"])
    scores = decode_tensor(case["outputs"]["scores"])
    got = result.classifications
    if len(got) != len(classes):
        raise CheckFailed(f"{len(got)} classifications, expected {len(classes)}")
    for i, classification in enumerate(got):
        labels = [c.label for c in classification.classes]
        want = [c.decode("utf-8") for c in classes[i]]
        if labels != want:
            raise CheckFailed(f"example {i}: labels {labels}, expected {want}")
        compare_arrays(f"example {i} scores", np.array([c.score for c in classification.classes], np.float32),
                       scores[i], "DT_FLOAT")


def compare_regressions(result, case):
    expected = decode_tensor(case["outputs"]["outputs"]).reshape(-1)
    got = np.array([r.value for r in result.regressions], np.float32)
    compare_arrays("regressions", got, expected, "DT_FLOAT")


# --- the checks -----------------------------------------------------------------------------


class Checker(CheckRunner):
    def __init__(self, target, fixtures_dir, timeout, credentials=None):
        super().__init__()
        self.fixtures_dir = fixtures_dir
        self.timeout = timeout
        self.channel = grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target)
        self.predict_stub = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.model_stub = model_service_pb2_grpc.ModelServiceStub(self.channel)

    def describe(self, error):
        return f"RPC error {error.code().name}: {error.details()}" if isinstance(error, grpc.RpcError) else None

    # Request helpers.

    def predict(self, model, signature, inputs, version=None, label=None):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = model
        request.model_spec.signature_name = signature
        if version is not None:
            request.model_spec.version.value = version
        if label is not None:
            request.model_spec.version_label = label
        for name, tensor in inputs.items():
            array = decode_tensor(tensor)
            request.inputs[name].CopyFrom(tf.make_tensor_proto(array, dtype=tf.dtypes.as_dtype(
                types_pb2.DataType.Value(tensor["dtype"])), shape=tensor["shape"]))
        return self.predict_stub.Predict(request, timeout=self.timeout)

    def check_predict_case(self, model, signature, case, version=None, label=None, served_version=None):
        response = self.predict(model, signature, case["inputs"], version=version, label=label)
        compare_outputs("response", response.outputs, case["outputs"])
        if response.model_spec.name != model:
            raise CheckFailed(f"response model_spec.name {response.model_spec.name!r}, expected {model!r}")
        if served_version is not None and response.model_spec.version.value != served_version:
            raise CheckFailed(f"response model_spec.version {response.model_spec.version.value}, "
                              f"expected {served_version}")

    def check_metadata(self, model, expected):
        request = get_model_metadata_pb2.GetModelMetadataRequest()
        request.model_spec.name = model
        request.metadata_field.append("signature_def")
        response = self.predict_stub.GetModelMetadata(request, timeout=self.timeout)
        if "signature_def" not in response.metadata:
            raise CheckFailed(f"metadata has no signature_def (keys: {sorted(response.metadata.keys())})")
        sig_map = get_model_metadata_pb2.SignatureDefMap()
        if not response.metadata["signature_def"].Unpack(sig_map):
            raise CheckFailed(f"signature_def is a {response.metadata['signature_def'].type_url}, not a SignatureDefMap")
        if response.model_spec.version.value != expected["version"]:
            raise CheckFailed(f"model_spec.version {response.model_spec.version.value}, expected {expected['version']}")
        for sig_name, sig in expected["signatures"].items():
            if sig_name not in sig_map.signature_def:
                raise CheckFailed(f"signature {sig_name!r} missing (have {sorted(sig_map.signature_def.keys())})")
            got = sig_map.signature_def[sig_name]
            if got.method_name != sig["method_name"]:
                raise CheckFailed(f"{sig_name}: method_name {got.method_name!r}, expected {sig['method_name']!r}")
            for kind, got_map, specs in (("input", got.inputs, sig["input_specs"]),
                                         ("output", got.outputs, sig["output_specs"])):
                if set(got_map.keys()) != set(specs.keys()):
                    raise CheckFailed(f"{sig_name}: {kind} keys {sorted(got_map.keys())}, expected {sorted(specs)}")
                for key, spec in specs.items():
                    info = got_map[key]
                    dtype = types_pb2.DataType.Name(info.dtype)
                    if dtype != spec["dtype"]:
                        raise CheckFailed(f"{sig_name}: {kind} {key} dtype {dtype}, expected {spec['dtype']}")
                    shape = None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]
                    if shape != spec["shape"]:
                        raise CheckFailed(f"{sig_name}: {kind} {key} shape {shape}, expected {spec['shape']}")

    def check_status(self, model, versions):
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = model
        response = self.model_stub.GetModelStatus(request, timeout=self.timeout)
        states = {s.version: s for s in response.model_version_status}
        available = get_model_status_pb2.ModelVersionStatus.AVAILABLE
        for v in versions:
            if v not in states:
                raise CheckFailed(f"version {v} not reported (reported: {sorted(states)})")
            if states[v].state != available:
                state = get_model_status_pb2.ModelVersionStatus.State.Name(states[v].state)
                raise CheckFailed(f"version {v} is {state}, expected AVAILABLE")
            if states[v].status.error_code != 0:
                raise CheckFailed(f"version {v} has error_code {states[v].status.error_code}")

    def check_classify(self, model, signature, case):
        request = classification_pb2.ClassificationRequest()
        request.model_spec.name = model
        if signature is not None:
            request.model_spec.signature_name = signature
        fill_examples(request.input.example_list, case["examples"])
        response = self.predict_stub.Classify(request, timeout=self.timeout)
        compare_classifications(response.result, case)

    def check_regress(self, model, case):
        request = regression_pb2.RegressionRequest()
        request.model_spec.name = model
        request.model_spec.signature_name = "regress"
        fill_examples(request.input.example_list, case["examples"])
        response = self.predict_stub.Regress(request, timeout=self.timeout)
        compare_regressions(response.result, case)

    def check_multi_inference(self, model, classify_case, regress_case):
        """Classify and regress signatures in one MultiInference call on the same examples."""
        if classify_case["examples"] != regress_case["examples"]:
            raise CheckFailed("the classify and regress cases hold different examples")
        request = inference_pb2.MultiInferenceRequest()
        for signature, method in (("classify", "tensorflow/serving/classify"), ("regress", "tensorflow/serving/regress")):
            task = request.tasks.add()
            task.model_spec.name = model
            task.model_spec.signature_name = signature
            task.method_name = method
        fill_examples(request.input.example_list, classify_case["examples"])
        response = self.predict_stub.MultiInference(request, timeout=self.timeout)
        if [r.model_spec.signature_name for r in response.results] != ["classify", "regress"]:
            raise CheckFailed(f"results for signatures {[r.model_spec.signature_name for r in response.results]}, expected classify, regress")
        if any(r.model_spec.version.value == 0 for r in response.results):
            raise CheckFailed("a result's model_spec names no version")
        compare_classifications(response.results[0].classification_result, classify_case)
        compare_regressions(response.results[1].regression_result, regress_case)

    def expect_not_found(self, call):
        try:
            call()
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise CheckFailed(f"got {e.code().name} ({e.details()}), expected NOT_FOUND") from None
            return
        raise CheckFailed("the call succeeded, expected NOT_FOUND")

    # The run.

    def run(self):
        try:
            grpc.channel_ready_future(self.channel).result(timeout=self.timeout)
        except grpc.FutureTimeoutError:
            self.failed += 1
            print(f"FAIL connect: no connection within {self.timeout}s", flush=True)
            return
        self.passed += 1
        print("PASS connect", flush=True)

        expected_files = sorted(glob.glob(os.path.join(self.fixtures_dir, "expected", "*.json")))
        if not expected_files:
            self.check("fixtures", lambda: fail(f"no expected/*.json under {self.fixtures_dir}"))
        for path in expected_files:
            with open(path) as f:
                expected = json.load(f)
            model = expected["model"]
            for sig_name, sig in expected["signatures"].items():
                for i, case in enumerate(sig["cases"]):
                    self.check(f"predict {model}/{sig_name} case {i}",
                               lambda c=case, s=sig_name: self.check_predict_case(
                                   model, s, c, served_version=expected["version"]))
            self.check(f"metadata {model}", lambda e=expected: self.check_metadata(model, e))
            versions = version_dirs(os.path.join(self.fixtures_dir, "models", model))
            wanted = versions if model == "versioned" else versions[-1:]
            self.check(f"status {model} versions {wanted} AVAILABLE", lambda w=wanted: self.check_status(model, w))

        # census_tf2's signatures carry the predict method name (tf.saved_model.save), as TF2 exports do.
        for model in ("census", "census_tf2"):
            census = load_expected(self.fixtures_dir, model)
            for i, case in enumerate(census["signatures"]["classify"]["cases"]):
                self.check(f"classify {model}/classify case {i}", lambda m=model, c=case: self.check_classify(m, "classify", c))
            default_case = census["signatures"]["serving_default"]["cases"][0]
            self.check(f"classify {model} (default signature)", lambda m=model, c=default_case: self.check_classify(m, None, c))
            for i, case in enumerate(census["signatures"]["regress"]["cases"]):
                self.check(f"regress {model}/regress case {i}", lambda m=model, c=case: self.check_regress(m, c))
            for i, (classify_case, regress_case) in enumerate(zip(census["signatures"]["classify"]["cases"], census["signatures"]["regress"]["cases"])):
                self.check(f"multi-inference {model} classify+regress case {i}",
                           lambda m=model, c=classify_case, r=regress_case: self.check_multi_inference(m, c, r))

        versioned = load_expected(self.fixtures_dir, "versioned")
        by_version = {versioned["version"]: versioned["signatures"]}
        by_version.update({int(v): d["signatures"] for v, d in versioned.get("other_versions", {}).items()})
        for v, signatures in sorted(by_version.items()):
            case = signatures["serving_default"]["cases"][0]
            self.check(f"predict versioned version {v}", lambda c=case, v=v: self.check_predict_case(
                "versioned", "serving_default", c, version=v, served_version=v))
        for label, v in VERSION_LABELS.items():
            case = by_version[v]["serving_default"]["cases"][0]
            self.check(f"predict versioned label {label} -> {v}", lambda c=case, l=label, v=v: self.check_predict_case(
                "versioned", "serving_default", c, label=l, served_version=v))

        x = {"x": {"dtype": "DT_FLOAT", "shape": [1], "values": [1.0]}}
        self.check("predict unknown model -> NOT_FOUND", lambda: self.expect_not_found(
            lambda: self.predict(UNKNOWN_MODEL, "serving_default", x)))
        self.check("predict unknown version -> NOT_FOUND", lambda: self.expect_not_found(
            lambda: self.predict("versioned", "serving_default", x, version=999)))
        status_request = get_model_status_pb2.GetModelStatusRequest()
        status_request.model_spec.name = UNKNOWN_MODEL
        self.check("status unknown model -> NOT_FOUND", lambda: self.expect_not_found(
            lambda: self.model_stub.GetModelStatus(status_request, timeout=self.timeout)))


def fail(message):
    raise CheckFailed(message)


def fill_examples(example_list, examples):
    """Feature dicts from the expected JSON ({"age": {"float_list": [39.0]}}) -> tf.Example protos."""
    for features in examples:
        example = example_list.examples.add()
        for key, feature in features.items():
            if "float_list" in feature:
                example.features.feature[key].float_list.value.extend(feature["float_list"])
            elif "int64_list" in feature:
                example.features.feature[key].int64_list.value.extend(int(v) for v in feature["int64_list"])
            else:
                example.features.feature[key].bytes_list.value.extend(
                    base64.b64decode(v) for v in feature["bytes_list"])


def version_dirs(model_dir):
    return sorted(int(d) for d in os.listdir(model_dir) if d.isdigit() and os.path.isdir(os.path.join(model_dir, d)))


def load_expected(fixtures_dir, model):
    with open(os.path.join(fixtures_dir, "expected", f"{model}.json")) as f:
        return json.load(f)


# --- self-test of the comparison helpers (no server needed) -----------------------------------


def self_test():
    passed = failed = 0

    def expect(name, fn, should_fail):
        nonlocal passed, failed
        try:
            fn()
            ok = not should_fail
        except CheckFailed:
            ok = should_fail
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL self-test {name}", flush=True)

    big = {"dtype": "DT_INT64", "shape": [2], "values": ["9007199254740993", "-5"]}
    floats = {"dtype": "DT_FLOAT", "shape": [1, 2], "values": [1.0, 0.5]}
    strings = {"dtype": "DT_STRING", "shape": [2], "values": [base64.b64encode(b"a\xff").decode(), ""]}
    halves = {"dtype": "DT_HALF", "shape": [1], "values": [0.0999755859375]}
    proto = tf.make_tensor_proto
    expect("int64 beyond 2^53 equal", lambda: compare_tensor_proto(
        "t", proto(np.array([9007199254740993, -5], np.int64)), big), False)
    expect("int64 off by one", lambda: compare_tensor_proto(
        "t", proto(np.array([9007199254740992, -5], np.int64)), big), True)
    expect("float within 1e-5 relative", lambda: compare_tensor_proto(
        "t", proto(np.array([[1.000001, 0.5]], np.float32)), floats), False)
    expect("float beyond 1e-5 relative", lambda: compare_tensor_proto(
        "t", proto(np.array([[1.0001, 0.5]], np.float32)), floats), True)
    expect("float shape differs", lambda: compare_tensor_proto(
        "t", proto(np.array([1.0, 0.5], np.float32)), floats), True)
    expect("dtype differs", lambda: compare_tensor_proto(
        "t", proto(np.array([[1.0, 0.5]], np.float64)), floats), True)
    expect("strings equal", lambda: compare_tensor_proto(
        "t", proto(np.array([b"a\xff", b""], object)), strings), False)
    expect("strings differ", lambda: compare_tensor_proto(
        "t", proto(np.array([b"a\xfe", b""], object)), strings), True)
    expect("half equal", lambda: compare_tensor_proto("t", proto(np.array([0.1], np.float16)), halves), False)
    expect("bool differs", lambda: compare_tensor_proto(
        "t", proto(np.array([True])), {"dtype": "DT_BOOL", "shape": [1], "values": [False]}), True)
    print(f"self-test: {passed} passed, {failed} failed", flush=True)
    return failed == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", nargs="?", help="HOST:PORT of the gRPC server")
    parser.add_argument("fixtures_dir", nargs="?", help="the test/fixtures directory")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per RPC and for connecting")
    parser.add_argument("--self-test", action="store_true", help="test the comparison helpers and exit")
    parser.add_argument("--tls-ca", help="connect with TLS, trusting this CA certificate (PEM file)")
    parser.add_argument("--tls-cert", help="client certificate (PEM file), with --tls-key")
    parser.add_argument("--tls-key", help="client private key (PEM file)")
    args = parser.parse_args()
    if args.self_test:
        sys.exit(0 if self_test() else 1)
    if not args.target or not args.fixtures_dir:
        parser.error("HOST:PORT and FIXTURES_DIR are required")
    credentials = None
    if args.tls_ca:
        read = lambda path: open(path, "rb").read() if path else None  # noqa: E731
        credentials = grpc.ssl_channel_credentials(read(args.tls_ca), read(args.tls_key), read(args.tls_cert))
    checker = Checker(args.target, args.fixtures_dir, args.timeout, credentials)
    checker.run()
    print(f"{checker.passed} passed, {checker.failed} failed", flush=True)
    sys.exit(1 if checker.failed else 0)


if __name__ == "__main__":
    main()
