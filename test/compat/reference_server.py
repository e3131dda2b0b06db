"""A minimal TF Serving-compatible gRPC server in Python TensorFlow, for testing tfs_client_check.py.

Usage: python reference_server.py FIXTURES_DIR [--port PORT]     (default port 8500)

It serves FIXTURES_DIR/models/* the way FIXTURES_DIR/model-config.yaml describes (`versioned`:
all versions, labels stable -> 2, canary -> 3; other models: latest version) using the official
`tensorflow_serving.apis` servicers and tf.saved_model.load. It is not part of the product: it
exists so the check script can be shown to pass against a correct server (and to fail against
a wrong one) before our server runs. Prints `listening on PORT` on stdout when ready.
"""

import argparse
import os
import sys
from concurrent import futures

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import grpc  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.core.protobuf import saved_model_pb2  # noqa: E402
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

DEFAULT_SIGNATURE = "serving_default"
LABELS = {"versioned": {"stable": 2, "canary": 3}}
ALL_VERSIONS = {"versioned"}


def fill_classifications(result, outputs):
    for labels, scores in zip(outputs["classes"].numpy(), outputs["scores"].numpy()):
        classification = result.classifications.add()
        for label, score in zip(labels, scores):
            classification.classes.add(label=label.decode("utf-8"), score=float(score))


def fill_regressions(result, outputs):
    for value in outputs["outputs"].numpy().reshape(-1):
        result.regressions.add(value=float(value))


class NotFound(Exception):
    pass


class Servable:
    """The meta graph tagged exactly {serve}, as a server run with the default --saved_model_tags loads."""

    def __init__(self, path):
        self.loaded = tf.saved_model.load(path, tags=["serve"])
        sm = saved_model_pb2.SavedModel()
        with open(os.path.join(path, "saved_model.pb"), "rb") as f:
            sm.ParseFromString(f.read())
        self.signature_defs = next(m.signature_def for m in sm.meta_graphs if list(m.meta_info_def.tags) == ["serve"])


def load_models(fixtures_dir):
    models = {}
    root = os.path.join(fixtures_dir, "models")
    for name in sorted(os.listdir(root)):
        versions = sorted(int(d) for d in os.listdir(os.path.join(root, name)) if d.isdigit())
        if name not in ALL_VERSIONS:
            versions = versions[-1:]
        try:
            models[name] = {v: Servable(os.path.join(root, name, str(v))) for v in versions}
        except (ValueError, StopIteration, RuntimeError) as e:
            # e.g. tagged_gpu, which has no {serve} meta graph: a server would fail it too.
            print(f"skipped model {name}: {str(e).splitlines()[0]}", file=sys.stderr, flush=True)
    return models


class Server(prediction_service_pb2_grpc.PredictionServiceServicer, model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, models):
        self.models = models

    def resolve(self, spec):
        versions = self.models.get(spec.name)
        if versions is None:
            raise NotFound(f"Servable not found for request: Latest({spec.name})")
        if spec.HasField("version"):
            version = spec.version.value
        elif spec.version_label:
            version = LABELS.get(spec.name, {}).get(spec.version_label)
            if version is None:
                raise NotFound(f"Unknown version label {spec.version_label!r} for model {spec.name}")
        else:
            version = max(versions)
        if version not in versions:
            raise NotFound(f"Servable not found for request: Specific({spec.name}, {version})")
        return version, versions[version]

    @staticmethod
    def run_signature(servable, name, feed):
        name = name or DEFAULT_SIGNATURE
        if name not in servable.loaded.signatures:
            raise NotFound(f"Serving signature key {name!r} not found")
        return name, servable.loaded.signatures[name](**feed)

    def abort_not_found(self, context, e):
        context.abort(grpc.StatusCode.NOT_FOUND, str(e))

    def Predict(self, request, context):
        try:
            version, servable = self.resolve(request.model_spec)
            feed = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
            name, outputs = self.run_signature(servable, request.model_spec.signature_name, feed)
        except NotFound as e:
            return self.abort_not_found(context, e)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.model_spec.signature_name = name
        for key, tensor in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(tensor.numpy()))
        return response

    def run_examples(self, request, context):
        version, servable = self.resolve(request.model_spec)
        serialized = [e.SerializeToString() for e in request.input.example_list.examples]
        name, outputs = self.run_signature(servable, request.model_spec.signature_name,
                                           {"inputs": tf.constant(serialized, tf.string)})
        return version, name, outputs

    def Classify(self, request, context):
        try:
            version, name, outputs = self.run_examples(request, context)
        except NotFound as e:
            return self.abort_not_found(context, e)
        response = classification_pb2.ClassificationResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.model_spec.signature_name = name
        fill_classifications(response.result, outputs)
        return response

    def Regress(self, request, context):
        try:
            version, name, outputs = self.run_examples(request, context)
        except NotFound as e:
            return self.abort_not_found(context, e)
        response = regression_pb2.RegressionResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.model_spec.signature_name = name
        fill_regressions(response.result, outputs)
        return response

    def MultiInference(self, request, context):
        """Each task's signature on the same examples, with the first task's version."""
        response = inference_pb2.MultiInferenceResponse()
        try:
            version, servable = self.resolve(request.tasks[0].model_spec)
            serialized = [e.SerializeToString() for e in request.input.example_list.examples]
            for task in request.tasks:
                name, outputs = self.run_signature(servable, task.model_spec.signature_name, {"inputs": tf.constant(serialized, tf.string)})
                result = response.results.add()
                result.model_spec.name = task.model_spec.name
                result.model_spec.version.value = version
                result.model_spec.signature_name = name
                if task.method_name == "tensorflow/serving/classify":
                    fill_classifications(result.classification_result, outputs)
                else:
                    fill_regressions(result.regression_result, outputs)
        except NotFound as e:
            return self.abort_not_found(context, e)
        return response

    def GetModelMetadata(self, request, context):
        try:
            version, servable = self.resolve(request.model_spec)
        except NotFound as e:
            return self.abort_not_found(context, e)
        sig_map = get_model_metadata_pb2.SignatureDefMap()
        for key, sig in servable.signature_defs.items():
            sig_map.signature_def[key].CopyFrom(sig)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.metadata["signature_def"].Pack(sig_map)
        return response

    def GetModelStatus(self, request, context):
        versions = self.models.get(request.model_spec.name)
        if versions is None:
            return context.abort(grpc.StatusCode.NOT_FOUND, f"Could not find any versions of model {request.model_spec.name}")
        response = get_model_status_pb2.GetModelStatusResponse()
        for v in sorted(versions):
            response.model_version_status.add(version=v, state=get_model_status_pb2.ModelVersionStatus.AVAILABLE)
        return response


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fixtures_dir")
    parser.add_argument("--port", type=int, default=8500)
    args = parser.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = Server(load_models(args.fixtures_dir))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(servicer, server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    print(f"listening on {port}", flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(0)
    sys.exit(0)


if __name__ == "__main__":
    main()
