"""Compile codeinstruct pipelines and upload them to a Kubeflow Pipelines endpoint.

Run by the chart's pipelines-upload Job (templates/pipelines-upload.yaml). For every pipeline
named in PIPELINES it runs `codeinstruct compile NAME -o FILE --config CONFIG`, then uploads FILE:
as a new pipeline `codeinstruct-NAME` the first time, as version VERSION of it afterwards. A
version that already exists (the Job retried) counts as uploaded.

Environment: KFP_HOST, PIPELINES (space separated), VERSION, CONFIG, KFP_TOKEN (optional).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

logger = logging.getLogger("upload_pipelines")


def compile_pipeline(name: str, config: str, out_dir: Path) -> Path:
    path = out_dir / f"{name}.yaml"
    subprocess.run(["codeinstruct", "compile", name, "-o", str(path), "--config", config], check=True)
    return path


def upload(client, name: str, path: Path, version: str) -> str:
    from kfp_server_api.exceptions import ApiException

    pipeline_name = f"codeinstruct-{name}"
    pipeline_id = client.get_pipeline_id(pipeline_name)
    if pipeline_id is None:
        client.upload_pipeline(str(path), pipeline_name=pipeline_name,
                               description=f"codeinstruct {name} pipeline")
        return f"{pipeline_name}: created"
    try:
        client.upload_pipeline_version(str(path), pipeline_version_name=version, pipeline_id=pipeline_id)
    except ApiException as exc:
        if exc.status == 409:  # the same version was uploaded by an earlier attempt of this Job
            return f"{pipeline_name}: version {version} already there"
        raise
    return f"{pipeline_name}: version {version} uploaded"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    import kfp

    host = os.environ["KFP_HOST"]
    names = os.environ["PIPELINES"].split()
    version = os.environ["VERSION"]
    config = os.environ["CONFIG"]
    client = kfp.Client(host=host, existing_token=os.environ.get("KFP_TOKEN") or None)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = compile_pipeline(name, config, Path(tmp))
            logger.info("%s", upload(client, name, path, version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
