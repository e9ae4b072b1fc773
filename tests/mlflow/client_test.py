"""Run the MLflow Python client against a tracking server and check every value it reads back.

Usage (after `scripts/setup.sh --mlflow`):

    MLFLOW_TRACKING_URI=http://127.0.0.1:3000 MLFLOW_TRACKING_TOKEN=<API token> \\
        target/mlflow-venv/bin/python tests/mlflow/client_test.py

The script prints one `ok: <step>` line per step and stops at the first failure with a
message naming the step. Names get a unique suffix, so it can run again against the same
server. A stock MLflow server ignores the token, so any value works there.
"""

import filecmp
import json
import os
import secrets
import sys
import tempfile
import time
import traceback
from pathlib import Path

# MLflow 3 sends usage telemetry to an outside host by default, and this test must talk only to
# the server under test.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
# The client retries 429 and 5xx responses seven times with backoff (about 4 minutes by MLflow's
# own estimate), so a server bug would look like a hang. One retry keeps failures quick, and
# setting MLFLOW_HTTP_REQUEST_MAX_RETRIES overrides it.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
# The server offers multipart uploads, which the client uses from 500 MiB in parts of 100 MiB by
# default. These sizes make the large file below go up in 4 parts.
MULTIPART_CHUNK_BYTES = 1024 * 1024
os.environ["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] = str(MULTIPART_CHUNK_BYTES)
os.environ["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"] = str(MULTIPART_CHUNK_BYTES)

import mlflow  # noqa: E402 (telemetry must be off before the import)
import mlflow.data  # noqa: E402
import pandas as pd  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import LoggedModelStatus, Metric, Param, RunTag  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository  # noqa: E402

# Large enough that a server which buffers, truncates or re-encodes uploads shows it, small
# enough to keep the run short. It goes up as a multipart upload of 4 parts, the last 17 bytes.
LARGE_FILE_BYTES = 3 * 1024 * 1024 + 17


class StepFailed(Exception):
    """Failure of a check on a value read back from the server."""


def check(condition, message):
    if not condition:
        raise StepFailed(message)


def check_equal(actual, expected, description):
    if actual != expected:
        raise StepFailed(f"{description}: expected {expected!r}, got {actual!r}")


def expect_mlflow_error(call, error_code, description):
    """Call `call` and check that it raises MlflowException with `error_code`."""
    try:
        call()
    except MlflowException as e:
        check_equal(e.error_code, error_code, f"{description}: error_code")
        return e
    raise StepFailed(
        f"{description}: expected MlflowException {error_code}, but the call succeeded"
    )


class AddOffset(mlflow.pyfunc.PythonModel):
    """Pyfunc model that returns column `x` plus a fixed offset."""

    def __init__(self, offset):
        self.offset = offset

    def predict(self, context, model_input, params=None):
        return model_input["x"] + self.offset


class ClientTest:
    def __init__(self, work_dir: Path):
        self.work = work_dir
        self.client = MlflowClient()
        self.suffix = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        suffix = self.suffix
        self.experiment_name = f"orrery-compat-{suffix}"
        self.search_experiment_name = f"orrery-compat-search-{suffix}"
        self.model_name = f"orrery-compat-model-{suffix}"

    # Experiments

    def set_experiment(self):
        experiment = mlflow.set_experiment(self.experiment_name)
        check_equal(experiment.name, self.experiment_name, "set_experiment name")
        check(experiment.experiment_id, "set_experiment returned no experiment_id")
        check_equal(experiment.lifecycle_stage, "active", "lifecycle_stage")
        self.experiment_id = experiment.experiment_id
        # A second call must find the same experiment instead of creating another.
        again = mlflow.set_experiment(self.experiment_name)
        check_equal(again.experiment_id, self.experiment_id, "set_experiment twice: experiment_id")

    def create_experiment(self):
        self.search_experiment_id = self.client.create_experiment(
            self.search_experiment_name, tags={"team": "compat"}
        )
        check(
            isinstance(self.search_experiment_id, str), "create_experiment must return a string id"
        )
        check(
            self.search_experiment_id != self.experiment_id,
            "create_experiment reused an existing id",
        )
        expect_mlflow_error(
            lambda: self.client.create_experiment(self.search_experiment_name),
            "RESOURCE_ALREADY_EXISTS",
            "create_experiment with a taken name",
        )

    def get_experiment_by_name(self):
        experiment = self.client.get_experiment_by_name(self.search_experiment_name)
        check(
            experiment is not None,
            f"get_experiment_by_name({self.search_experiment_name!r}) returned None",
        )
        check_equal(experiment.experiment_id, self.search_experiment_id, "experiment_id")
        check_equal(experiment.name, self.search_experiment_name, "name")
        check_equal(experiment.tags.get("team"), "compat", "experiment tag team")
        check(experiment.artifact_location, "experiment has no artifact_location")
        by_id = self.client.get_experiment(self.search_experiment_id)
        check_equal(by_id.name, self.search_experiment_name, "get_experiment name")
        missing = self.client.get_experiment_by_name(self.experiment_name + "-missing")
        check(missing is None, f"get_experiment_by_name of a missing name returned {missing!r}")

    def search_experiments(self):
        found = self.client.search_experiments(filter_string=f"name LIKE '%{self.suffix}'")
        check_equal(
            sorted(e.name for e in found),
            sorted([self.experiment_name, self.search_experiment_name]),
            "search_experiments by name suffix",
        )
        found = self.client.search_experiments(
            filter_string=f"name = '{self.search_experiment_name}'"
        )
        check_equal(
            [e.experiment_id for e in found],
            [self.search_experiment_id],
            "search_experiments by name",
        )
        found = self.client.search_experiments(
            filter_string=f"tags.team = 'compat' and name LIKE '%{self.suffix}'"
        )
        check_equal(
            [e.name for e in found], [self.search_experiment_name], "search_experiments by tag"
        )

    # Runs

    def run_with_params_metrics_tags(self):
        mlflow.set_experiment(self.experiment_name)
        with mlflow.start_run(run_name="train") as run:
            self.run_id = run.info.run_id
            mlflow.log_params({"model": "xgb", "max_depth": 6, "learning_rate": 0.1})
            for step, value in enumerate([1.0, 0.8, 0.61, 0.5, 0.45]):
                mlflow.log_metric("rmse", value, step=step)
            mlflow.log_metric("r2", 0.9)
            mlflow.set_tags({"team": "compat", "purpose": "check"})
            mlflow.set_tag("temporary", "yes")
            self.client.delete_tag(self.run_id, "temporary")
            expect_mlflow_error(
                lambda: mlflow.log_param("model", "rf"),
                "INVALID_PARAMETER_VALUE",
                "changing a logged param",
            )

        fetched = self.client.get_run(self.run_id)
        check_equal(fetched.info.status, "FINISHED", "run status after the with-block")
        check(fetched.info.end_time is not None, "finished run has no end_time")
        check_equal(fetched.info.experiment_id, self.experiment_id, "run experiment_id")
        check_equal(fetched.info.run_name, "train", "run_name")
        check_equal(
            fetched.data.params,
            {"model": "xgb", "max_depth": "6", "learning_rate": "0.1"},
            "params",
        )
        check_equal(fetched.data.metrics, {"rmse": 0.45, "r2": 0.9}, "latest metrics")
        check_equal(fetched.data.tags.get("team"), "compat", "tag team")
        check_equal(fetched.data.tags.get("purpose"), "check", "tag purpose")
        check_equal(fetched.data.tags.get("mlflow.runName"), "train", "tag mlflow.runName")
        check("temporary" not in fetched.data.tags, "deleted tag 'temporary' is still on the run")
        scheme = fetched.info.artifact_uri.split(":", 1)[0]
        # Any other scheme (a file path, s3:...) would make the client bypass the server.
        check(
            scheme in ("mlflow-artifacts", "http", "https"),
            f"artifact_uri {fetched.info.artifact_uri!r} is not served by the tracking server",
        )

    def metric_history(self):
        history = self.client.get_metric_history(self.run_id, "rmse")
        pairs = sorted((m.step, m.value) for m in history)
        check_equal(
            pairs,
            [(0, 1.0), (1, 0.8), (2, 0.61), (3, 0.5), (4, 0.45)],
            "rmse history (step, value)",
        )
        check(all(m.key == "rmse" for m in history), "history contains another key")
        check(all(m.timestamp > 0 for m in history), "history entry without timestamp")
        check_equal(
            self.client.get_metric_history(self.run_id, "no-such-metric"),
            [],
            "history of a missing metric",
        )

    def nested_run(self):
        with mlflow.start_run(run_id=self.run_id):
            with mlflow.start_run(run_name="fold-1", nested=True) as child:
                mlflow.log_metric("fold_rmse", 0.42)
                self.child_run_id = child.info.run_id
        child = self.client.get_run(self.child_run_id)
        check_equal(
            child.data.tags.get("mlflow.parentRunId"), self.run_id, "child tag mlflow.parentRunId"
        )
        check_equal(child.info.experiment_id, self.experiment_id, "child experiment_id")
        check_equal(child.data.metrics, {"fold_rmse": 0.42}, "child metrics")
        children = self.client.search_runs(
            [self.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{self.run_id}'"
        )
        check_equal([r.info.run_id for r in children], [self.child_run_id], "search_runs by parent")

    def log_batch(self):
        run = self.client.create_run(
            self.experiment_id, run_name="batch", tags={"source": "log_batch"}
        )
        self.batch_run_id = run.info.run_id
        check_equal(run.info.status, "RUNNING", "status of a created run")
        now = int(time.time() * 1000)
        self.client.log_batch(
            self.batch_run_id,
            metrics=[Metric("loss", 0.3 - 0.1 * i, now + i, i) for i in range(3)],
            params=[Param("optimizer", "adam"), Param("epochs", "3")],
            tags=[RunTag("stage", "batch")],
        )
        self.client.set_terminated(self.batch_run_id, status="KILLED")
        fetched = self.client.get_run(self.batch_run_id)
        check_equal(fetched.info.status, "KILLED", "status after set_terminated")
        check_equal(fetched.data.params, {"optimizer": "adam", "epochs": "3"}, "batch params")
        check_equal(fetched.data.tags.get("stage"), "batch", "batch tag stage")
        check_equal(fetched.data.tags.get("source"), "log_batch", "create_run tag source")
        history = self.client.get_metric_history(self.batch_run_id, "loss")
        check_equal(
            sorted((m.step, m.timestamp, m.value) for m in history),
            [(i, now + i, 0.3 - 0.1 * i) for i in range(3)],
            "batch loss history (step, timestamp, value)",
        )
        check_equal(
            fetched.data.metrics.get("loss"), 0.3 - 0.1 * 2, "latest loss is the highest step"
        )

    def log_input_dataset(self):
        frame = pd.DataFrame(
            {"x": [1.0, 2.0, 3.0, 4.0], "city": ["a", "b", "a", "c"], "y": [0, 1, 0, 1]}
        )
        csv_path = self.work / "train.csv"
        frame.to_csv(csv_path, index=False)
        dataset = mlflow.data.from_pandas(frame, source=str(csv_path), name="train", targets="y")
        # MLflow leaves the schema out, without an error, when scipy does not import.
        check(
            dataset.schema is not None, "the client inferred no dataset schema: is scipy installed?"
        )

        with mlflow.start_run(run_id=self.run_id):
            mlflow.log_input(dataset, context="training", tags={"split": "train"})

        inputs = self.client.get_run(self.run_id).inputs.dataset_inputs
        check_equal(len(inputs), 1, "number of dataset inputs")

        logged = inputs[0].dataset
        check_equal(logged.name, "train", "dataset name")
        check_equal(logged.digest, dataset.digest, "dataset digest")
        check_equal(logged.source_type, "local", "dataset source_type")
        check_equal(
            json.loads(logged.source), json.loads(dataset.source.to_json()), "dataset source"
        )
        check_equal(
            json.loads(logged.schema), json.loads(dataset.to_dict()["schema"]), "dataset schema"
        )
        check_equal(
            json.loads(logged.profile), {"num_rows": 4, "num_elements": 12}, "dataset profile"
        )

        tags = {t.key: t.value for t in inputs[0].tags}
        check_equal(tags.get("mlflow.data.context"), "training", "dataset context tag")
        check_equal(tags.get("split"), "train", "dataset tag split")

    # Artifacts

    def upload_artifacts(self):
        self.single_file = self.work / "notes.txt"
        self.single_file.write_text("Orrery compatibility check\n")
        self.folder = self.work / "data"
        (self.folder / "nested").mkdir(parents=True)
        (self.folder / "a.json").write_text(json.dumps({"a": 1}))
        (self.folder / "nested" / "b.csv").write_text("x,y\n1,2\n")
        self.large_file = self.work / "large.bin"
        self.large_file.write_bytes(os.urandom(LARGE_FILE_BYTES))
        # Count the multipart uploads the client starts, and the parts each has.
        multipart_parts = []
        create_multipart_upload = HttpArtifactRepository.create_multipart_upload

        def counting_create(repository, *args, **kwargs):
            response = create_multipart_upload(repository, *args, **kwargs)
            multipart_parts.append(len(response.credentials))
            return response

        HttpArtifactRepository.create_multipart_upload = counting_create
        try:
            with mlflow.start_run(run_id=self.run_id):
                mlflow.log_artifact(str(self.single_file))
                mlflow.log_artifact(str(self.large_file), artifact_path="blobs")
                mlflow.log_artifacts(str(self.folder), artifact_path="data")
                mlflow.log_dict({"threshold": 0.5}, "config/params.json")
        finally:
            HttpArtifactRepository.create_multipart_upload = create_multipart_upload
        check_equal(multipart_parts, [4], "multipart uploads started, as parts per upload")

    def list_artifacts(self):
        top = {f.path: f for f in self.client.list_artifacts(self.run_id)}
        check_equal(sorted(top), ["blobs", "config", "data", "notes.txt"], "top-level artifacts")
        check(top["data"].is_dir, "'data' is not listed as a directory")
        check(not top["notes.txt"].is_dir, "'notes.txt' is listed as a directory")
        check_equal(
            top["notes.txt"].file_size, self.single_file.stat().st_size, "notes.txt file_size"
        )
        data = {f.path: f for f in self.client.list_artifacts(self.run_id, "data")}
        check_equal(sorted(data), ["data/a.json", "data/nested"], "artifacts under data/")
        check(data["data/nested"].is_dir, "'data/nested' is not listed as a directory")
        blobs = self.client.list_artifacts(self.run_id, "blobs")
        check_equal(
            [(f.path, f.file_size) for f in blobs],
            [("blobs/large.bin", LARGE_FILE_BYTES)],
            "blobs/",
        )
        check_equal(
            self.client.list_artifacts(self.run_id, "no-such-dir"), [], "listing a missing folder"
        )

    def download_artifacts(self):
        target = self.work / "download"
        target.mkdir()
        path = self.client.download_artifacts(self.run_id, "blobs/large.bin", str(target))
        check(
            filecmp.cmp(path, self.large_file, shallow=False),
            "downloaded large.bin differs from the upload",
        )
        path = mlflow.artifacts.download_artifacts(
            run_id=self.run_id, artifact_path="notes.txt", dst_path=str(target)
        )
        check_equal(Path(path).read_bytes(), self.single_file.read_bytes(), "downloaded notes.txt")
        folder = Path(
            mlflow.artifacts.download_artifacts(
                run_id=self.run_id, artifact_path="data", dst_path=str(target)
            )
        )
        comparison = filecmp.dircmp(folder, self.folder)
        check_equal(
            comparison.left_only + comparison.right_only, [], "files only on one side of data/"
        )
        for name in ["a.json", "nested/b.csv"]:
            check_equal(
                (folder / name).read_bytes(),
                (self.folder / name).read_bytes(),
                f"downloaded data/{name}",
            )
        config = mlflow.artifacts.load_dict(f"runs:/{self.run_id}/config/params.json")
        check_equal(config, {"threshold": 0.5}, "config/params.json")

    # Search

    def search_runs(self):
        # (run name, model param, rmse or None): only a and b match the filter below.
        cases = [
            ("a", "xgb", 0.5),
            ("b", "xgb", 0.7),
            ("c", "xgb", 0.9),
            ("d", "rf", 0.3),
            ("e", "xgb", None),
            ("f", "xgb", 0.8),
        ]
        ids = {}
        for name, model, rmse in cases:
            with mlflow.start_run(experiment_id=self.search_experiment_id, run_name=name) as run:
                mlflow.log_param("model", model)
                if rmse is not None:
                    mlflow.log_metric("rmse", rmse)
                ids[run.info.run_id] = name

        def names(runs):
            return [ids.get(r.info.run_id, r.info.run_id) for r in runs]

        found = self.client.search_runs(
            [self.search_experiment_id],
            filter_string='metrics.rmse < 0.8 and params.model = "xgb"',
            order_by=["metrics.rmse ASC"],
        )
        check_equal(names(found), ["a", "b"], "search_runs rmse < 0.8 and model = xgb, rmse ASC")
        found = self.client.search_runs([self.search_experiment_id], order_by=["metrics.rmse DESC"])
        # MLflow 3.18 sorts runs without the metric last, in either direction.
        check_equal(names(found), ["c", "f", "b", "a", "d", "e"], "search_runs rmse DESC")
        found = self.client.search_runs(
            [self.search_experiment_id],
            filter_string="params.model != 'xgb'",
            order_by=["attributes.run_name"],
        )
        check_equal(names(found), ["d"], "search_runs params.model != 'xgb'")

        first = self.client.search_runs(
            [self.search_experiment_id], order_by=["metrics.rmse ASC"], max_results=4
        )
        check_equal(names(first), ["d", "a", "b", "f"], "search_runs first page of 4")
        check(first.token, "first page of 4 out of 6 runs has no next-page token")
        second = self.client.search_runs(
            [self.search_experiment_id],
            order_by=["metrics.rmse ASC"],
            max_results=4,
            page_token=first.token,
        )
        check_equal(names(second), ["c", "e"], "search_runs second page")
        check(not second.token, f"last page has a next-page token {second.token!r}")

        frame = mlflow.search_runs(
            experiment_ids=[self.search_experiment_id],
            filter_string="metrics.rmse >= 0.7",
            order_by=["metrics.rmse ASC"],
        )
        check_equal(
            list(frame["metrics.rmse"]),
            [0.7, 0.8, 0.9],
            "mlflow.search_runs DataFrame metrics.rmse",
        )
        check_equal(
            list(frame["params.model"]),
            ["xgb", "xgb", "xgb"],
            "mlflow.search_runs DataFrame params.model",
        )

    # Models

    def log_and_register_model(self):
        example = pd.DataFrame({"x": [1.0, 2.0]})
        with mlflow.start_run(run_id=self.run_id):
            first = mlflow.pyfunc.log_model(
                name="model",
                python_model=AddOffset(10),
                input_example=example,
                registered_model_name=self.model_name,
            )
            second = mlflow.pyfunc.log_model(
                name="model-v2", python_model=AddOffset(100), input_example=example
            )
        check_equal(first.run_id, self.run_id, "model_info.run_id")
        check_equal(str(first.registered_model_version), "1", "version registered by log_model")
        check(first.model_id, "log_model returned no model_id")
        logged = mlflow.get_logged_model(first.model_id)
        check_equal(logged.name, "model", "logged model name")
        check_equal(logged.source_run_id, self.run_id, "logged model source_run_id")
        check_equal(logged.experiment_id, self.experiment_id, "logged model experiment_id")
        check_equal(logged.status, LoggedModelStatus.READY, "logged model status")
        # log_model copies the run's metrics onto the model (log-batch with model_id). The run's
        # own history must not grow from that.
        check_equal(
            sorted({m.key for m in logged.metrics}),
            ["r2", "rmse"],
            "metric keys of the logged model",
        )
        check(
            all(m.model_id == first.model_id for m in logged.metrics),
            "logged model metric without its model_id",
        )
        check_equal(
            len(self.client.get_metric_history(self.run_id, "rmse")),
            5,
            "rmse history length after log_model",
        )
        outputs = self.client.get_run(self.run_id).outputs.model_outputs
        check_equal(
            sorted(o.model_id for o in outputs),
            sorted([first.model_id, second.model_id]),
            "run outputs model_ids",
        )
        files = {f.path for f in mlflow.artifacts.list_artifacts(artifact_uri=first.model_uri)}
        check(
            {"MLmodel", "python_model.pkl"} <= files,
            f"logged model files {sorted(files)} lack MLmodel or python_model.pkl",
        )

        # A runs:/ URI makes the client find the model through logged-models/search.
        version = mlflow.register_model(f"runs:/{self.run_id}/model-v2", self.model_name)
        check_equal(version.version, "2", "version created by register_model")
        check_equal(version.status, "READY", "model version status")
        self.first_version = first.registered_model_version

        registered = self.client.get_registered_model(self.model_name)
        check_equal(registered.name, self.model_name, "registered model name")
        versions = self.client.search_model_versions(f"name = '{self.model_name}'")
        check_equal(sorted(v.version for v in versions), ["1", "2"], "search_model_versions")
        v1 = self.client.get_model_version(self.model_name, "1")
        check_equal(v1.run_id, self.run_id, "version 1 run_id")
        check_equal(v1.source, first.model_uri, "version 1 source")
        v2 = self.client.get_model_version(self.model_name, "2")
        check_equal(v2.source, second.model_uri, "version 2 source")

    def alias(self):
        self.client.set_registered_model_alias(self.model_name, "champion", str(self.first_version))
        version = self.client.get_model_version_by_alias(self.model_name, "champion")
        check_equal(version.version, "1", "version behind alias champion")
        check("champion" in version.aliases, f"aliases of version 1 are {version.aliases!r}")
        registered = self.client.get_registered_model(self.model_name)
        check_equal(registered.aliases, {"champion": "1"}, "registered model aliases")
        expect_mlflow_error(
            lambda: self.client.get_model_version_by_alias(self.model_name, "missing"),
            "INVALID_PARAMETER_VALUE",
            "get_model_version_by_alias of a missing alias",
        )

    def load_by_alias(self):
        """Load models:/name@champion, models:/name/2 and runs:/<run_id>/model, and predict."""
        model = mlflow.pyfunc.load_model(f"models:/{self.model_name}@champion")
        prediction = model.predict(pd.DataFrame({"x": [1.0, 2.5]}))
        # Version 1 adds 10 and version 2 adds 100, so this also shows the alias won over "latest".
        check_equal(list(prediction), [11.0, 12.5], "predictions of models:/name@champion")
        latest = mlflow.pyfunc.load_model(f"models:/{self.model_name}/2")
        check_equal(
            list(latest.predict(pd.DataFrame({"x": [1.0]}))), [101.0], "predictions of version 2"
        )
        by_run = mlflow.pyfunc.load_model(f"runs:/{self.run_id}/model")
        check_equal(
            list(by_run.predict(pd.DataFrame({"x": [0.5]}))),
            [10.5],
            "predictions of runs:/<run_id>/model",
        )

    # Errors

    def missing_resources(self):
        error = expect_mlflow_error(
            lambda: self.client.get_experiment("999999999"),
            "RESOURCE_DOES_NOT_EXIST",
            "get_experiment of a missing id",
        )
        check_equal(error.get_http_status_code(), 404, "HTTP status of a missing experiment")
        expect_mlflow_error(
            lambda: self.client.get_run("0" * 32),
            "RESOURCE_DOES_NOT_EXIST",
            "get_run of a missing id",
        )
        expect_mlflow_error(
            lambda: self.client.get_registered_model(self.model_name + "-missing"),
            "RESOURCE_DOES_NOT_EXIST",
            "get_registered_model of a missing name",
        )

    def run_all(self):
        steps = [
            ("set_experiment", self.set_experiment),
            ("create_experiment", self.create_experiment),
            ("get_experiment_by_name", self.get_experiment_by_name),
            ("search_experiments", self.search_experiments),
            ("run with params, metrics and tags", self.run_with_params_metrics_tags),
            ("get_metric_history", self.metric_history),
            ("nested run", self.nested_run),
            ("log_batch", self.log_batch),
            ("log_input with a pandas dataset", self.log_input_dataset),
            ("log_artifact and log_artifacts", self.upload_artifacts),
            ("list_artifacts", self.list_artifacts),
            ("download_artifacts", self.download_artifacts),
            ("search_runs", self.search_runs),
            ("log and register a pyfunc model", self.log_and_register_model),
            ("registered model alias", self.alias),
            ("load_model by alias, version and run", self.load_by_alias),
            ("missing resources", self.missing_resources),
        ]
        for name, step in steps:
            try:
                step()
            except Exception as e:
                if not isinstance(e, StepFailed):
                    traceback.print_exc()
                print(f"FAILED: {name}: {type(e).__name__}: {e}", file=sys.stderr)
                return 1
            print(f"ok: {name}", flush=True)
        return 0


def main():
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri.startswith(("http://", "https://")):
        # Without a server URI the client would log to ./mlruns and every step would pass.
        print(f"MLFLOW_TRACKING_URI must be the server's http:// URL, got {uri!r}", file=sys.stderr)
        return 2
    if not os.environ.get("MLFLOW_TRACKING_TOKEN"):
        print(
            "MLFLOW_TRACKING_TOKEN is not set: set it to an Orrery API token"
            " (any value works for a stock MLflow server)",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="orrery-mlflow-") as work:
        return ClientTest(Path(work)).run_all()


if __name__ == "__main__":
    sys.exit(main())
