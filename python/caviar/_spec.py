"""Study specs from a dict, YAML text or a YAML file, as caviar.v1.StudySpec.

Keys are the fields of caviar.v1.StudySpec (proto/caviar/v1/study.proto), as
in the files `caviar submit` reads. A spec without `command`, `trainer` or
`external` is an external study: its trials are run by SDK clients.
"""

import os
import re

from google.protobuf import json_format

from caviar._errors import SpecError
from caviar.v1 import study_pb2

_RUN_KINDS = ("command", "trainer", "external")


def _yaml_loader():
    import yaml  # python3-yaml; only needed for YAML specs.

    class Loader(yaml.SafeLoader):
        """YAML 1.2 floats: 1e-4 is a number (YAML 1.1 reads it as text)."""

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$|"
                   r"^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$", re.X),
        list("-+0123456789."))
    return yaml, Loader


def _from_yaml(text, where):
    yaml, loader = _yaml_loader()
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as error:
        raise SpecError(f"{where}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{where}: a spec is a mapping of StudySpec fields, "
                        f"got {type(data).__name__}")
    return data


def spec_dict(spec):
    """A dict of StudySpec fields from a dict, YAML text, or a YAML file
    (a path, or a str of one line naming an existing file), and the folder
    relative paths in it are relative to (a file's, else None)."""
    if isinstance(spec, dict):
        return dict(spec), None
    if isinstance(spec, os.PathLike) or (
            isinstance(spec, str) and "\n" not in spec and os.path.isfile(spec)):
        path = os.fspath(spec)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as error:
            raise SpecError(f"spec: cannot read {path}: {error}") from None
        base_dir = os.path.dirname(os.path.abspath(path))
        return _from_yaml(text, path), base_dir
    if isinstance(spec, str):
        return _from_yaml(spec, "spec"), None
    raise SpecError(f"spec: give a dict, YAML text or a file path, got {type(spec).__name__}")


def to_proto(spec):
    """caviar.v1.StudySpec from a dict, YAML text or file; SpecError names the
    field. The coordinator checks the rest (ranges, names, algorithms)."""
    data, base_dir = spec_dict(spec)
    if not any(k in data for k in _RUN_KINDS):
        data["external"] = {}
    message = study_pb2.StudySpec()
    try:
        json_format.ParseDict(data, message)
    except json_format.ParseError as error:
        raise SpecError(f"spec: {error}") from None
    command = message.command if message.HasField("command") else None
    if command is not None and base_dir and not os.path.isabs(command.working_dir or "/"):
        # As `caviar submit`: relative to the spec file's folder.
        command.working_dir = os.path.normpath(os.path.join(base_dir, command.working_dir))
    return message
