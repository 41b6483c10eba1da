"""Validates a STIX 2.1 bundle against OASIS's STIX 2.1 JSON schemas.

Usage: stix_validate.py BUNDLE.json [SCHEMAS_DIR]

SCHEMAS_DIR holds the schemas as OASIS's cti-stix2-json-schemas lays
them out (common/bundle.json, sdos/, sros/, observables/). Without it:
$VIGIE_STIX_SCHEMAS, else the copy the stix2-validator package ships
(stix2validator/schemas-2.1/schemas).

Exit codes: 0 valid, 1 invalid (the errors on stderr), 3 no jsonschema
module, 4 no schemas found.
"""

import json
import os
import pathlib
import sys


def schemas_dir(argv):
    if len(argv) > 2:
        return pathlib.Path(argv[2])
    if os.environ.get("VIGIE_STIX_SCHEMAS"):
        return pathlib.Path(os.environ["VIGIE_STIX_SCHEMAS"])
    try:
        import stix2validator
    except ImportError:
        return None
    return pathlib.Path(stix2validator.__file__).parent / "schemas-2.1" / "schemas"


def main(argv):
    try:
        import jsonschema
    except ImportError:
        print("no jsonschema module (apt-get install python3-jsonschema)", file=sys.stderr)
        return 3
    root = schemas_dir(argv)
    if root is None or not (root / "common" / "bundle.json").is_file():
        print(f"no STIX 2.1 schemas at {root}", file=sys.stderr)
        return 4
    store = {}
    for path in root.rglob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        store[schema["$id"]] = schema
    bundle_schema = json.loads((root / "common" / "bundle.json").read_text(encoding="utf-8"))
    instance = json.loads(pathlib.Path(argv[1]).read_text(encoding="utf-8"))
    cls = jsonschema.Draft202012Validator
    try:
        # jsonschema 4.18 and later resolve references through a registry.
        from referencing import Registry, Resource

        registry = Registry().with_resources(
            (uri, Resource.from_contents(schema)) for uri, schema in store.items()
        )
        validator = cls(bundle_schema, registry=registry)
    except ImportError:
        # Debian bookworm's 4.10.
        resolver = jsonschema.RefResolver.from_schema(bundle_schema, store=store)
        validator = cls(bundle_schema, resolver=resolver)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path)
        print(f"{where}: {error.message}", file=sys.stderr)
        for sub in sorted(error.context or [], key=lambda e: list(e.path))[:20]:
            print(f"    {'/'.join(str(p) for p in sub.absolute_path)}: {sub.message}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
