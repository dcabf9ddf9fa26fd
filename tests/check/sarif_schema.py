"""Validation of SARIF logs against the vendored official SARIF 2.1.0 schema (sarif/README.md)."""
import json
import os

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sarif", "sarif-schema-2.1.0.json")


def validator():
    try:
        import jsonschema
    except ImportError as e:
        raise SystemExit("python3-jsonschema is needed to validate SARIF (scripts/install-deps.sh)") from e
    with open(SCHEMA_PATH) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)  # draft-04, from its $schema
    cls.check_schema(schema)
    return cls(schema)


def errors(log):
    """Every way `log` breaks the schema, as 'path: message' lines (empty when it is valid)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator().iter_errors(log)]


def broken_copies(log):
    """Copies of a valid log that the schema must refuse: proof that validation is in force."""
    no_version = dict(log)
    del no_version["version"]
    yield "no version", no_version
    bad_level = json.loads(json.dumps(log))
    bad_level["runs"][0]["results"][0]["level"] = "fatal"
    yield "result level 'fatal'", bad_level
    bad_line = json.loads(json.dumps(log))
    bad_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    yield "startLine 0", bad_line
