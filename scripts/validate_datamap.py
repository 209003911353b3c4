#!/usr/bin/env python3
"""Validate a Steward data map (a fideslang taxonomy in YAML) with fideslang itself.

usage: validate_datamap.py FILE

What "valid" means here:
  1. the YAML parses (yaml.safe_load) to a mapping whose top-level keys are
     fideslang Taxonomy lists, with at least one `system` and one `dataset`;
  2. no key anywhere is unknown to the fideslang model it belongs to
     (fideslang itself ignores unknown keys silently, so a typo such as
     `data_categorie` would otherwise pass);
  3. fideslang's own pydantic models accept it:
     fideslang.models.Taxonomy.model_validate (System, PrivacyDeclaration,
     Dataset, DatasetCollection, DatasetField, DataCategory, ...);
  4. every data_category, data_use and data_subject key used exists in
     fideslang's DEFAULT_TAXONOMY or is defined in the file itself (the
     `data_category` extension entries, whose parent_key must exist in turn),
     and none is deprecated;
  5. every dataset_references entry names a dataset of the file, and when a
     dataset has `meta.retention`, every collection's category (the part of
     its name before the first `_`) has a non-empty retention text there.

Exit status: 0 valid; 1 invalid (each problem printed, one per line);
2 usage error, unreadable file, or fideslang not installed.
Install: python3 -m venv /var/tmp/steward-venv &&
         /var/tmp/steward-venv/bin/pip install -r scripts/requirements-datamap.txt
"""

import sys
import typing


def fail_usage(msg):
    print(f"validate_datamap: {msg}", file=sys.stderr)
    return 2


def model_classes(annotation, base):
    """The pydantic model classes nested in a field annotation."""
    found = []
    if isinstance(annotation, type) and issubclass(annotation, base):
        found.append(annotation)
    for arg in typing.get_args(annotation):
        found.extend(model_classes(arg, base))
    return found


def check_unknown_keys(obj, model, path, problems, base):
    """Report keys of `obj` that `model` does not declare, recursively."""
    if not isinstance(obj, dict):
        return
    fields = model.model_fields
    allowed = set(fields)
    allowed.update(f.alias for f in fields.values() if f.alias)
    if any(c.__name__ == "FidesopsMetaBackwardsCompat" for c in model.__mro__):
        allowed.add("fidesops_meta")
    for key, value in obj.items():
        here = f"{path}.{key}" if path else key
        if key not in allowed:
            problems.append(
                f"{here}: not a field of fideslang {model.__name__} "
                f"(fideslang would ignore it silently)"
            )
            continue
        subs = model_classes(fields[key].annotation, base)
        if not subs:
            continue
        sub = subs[0]
        if isinstance(value, list):
            for i, item in enumerate(value):
                check_unknown_keys(item, sub, f"{here}[{i}]", problems, base)
        elif isinstance(value, dict):
            check_unknown_keys(value, sub, here, problems, base)


def walk_fields(fields, path):
    """(path, field) for every dataset field, nested ones included."""
    for f in fields or []:
        p = f"{path} field `{f.name}`"
        yield p, f
        yield from walk_fields(f.fields, p)


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        return fail_usage("usage: validate_datamap.py FILE")
    path = argv[1]
    try:
        import pydantic
        import yaml
        import fideslang
        from fideslang.default_taxonomy import DEFAULT_TAXONOMY
        from fideslang.models import Taxonomy
    except ImportError as e:
        return fail_usage(
            f"{e}; install fideslang: pip install -r scripts/requirements-datamap.txt"
        )
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except OSError as e:
        return fail_usage(f"{path}: {e}")
    except yaml.YAMLError as e:
        print(f"{path}: not valid YAML: {e}")
        return 1

    problems = []
    if not isinstance(doc, dict):
        print(f"{path}: the top level must be a mapping of fideslang resource lists")
        return 1
    for key in ("system", "dataset"):
        if not isinstance(doc.get(key), list) or not doc.get(key):
            problems.append(f"{path}: top-level `{key}` must be a non-empty list")
    check_unknown_keys(doc, Taxonomy, "", problems, pydantic.BaseModel)
    if problems:
        for p in problems:
            print(p)
        return 1

    try:
        taxonomy = Taxonomy.model_validate(doc)
    except pydantic.ValidationError as e:
        print(f"{path}: rejected by fideslang {fideslang.__version__} models:\n{e}")
        return 1

    def keys(resources):
        return {r.fides_key: r for r in resources}

    default_cats = keys(DEFAULT_TAXONOMY.data_category)
    default_uses = keys(DEFAULT_TAXONOMY.data_use)
    default_subjects = keys(DEFAULT_TAXONOMY.data_subject)
    file_cats = keys(taxonomy.data_category)
    file_uses = keys(taxonomy.data_use)
    file_subjects = keys(taxonomy.data_subject)
    cats = {**default_cats, **file_cats}
    uses = {**default_uses, **file_uses}
    subjects = {**default_subjects, **file_subjects}

    def check(kind, table, used, where):
        for k in used or []:
            entry = table.get(k)
            if entry is None:
                problems.append(
                    f"{where}: {kind} `{k}` is neither in fideslang's default taxonomy "
                    f"nor defined in this file"
                )
            elif getattr(entry, "version_deprecated", None):
                problems.append(
                    f"{where}: {kind} `{k}` is deprecated since fideslang "
                    f"{entry.version_deprecated}; use `{entry.replaced_by}`"
                )

    for key, c in file_cats.items():
        if key in default_cats:
            problems.append(f"data_category `{key}`: redefines a default fideslang key")
        if c.parent_key and c.parent_key not in cats:
            problems.append(
                f"data_category `{key}`: parent_key `{c.parent_key}` does not exist"
            )
    for key, u in file_uses.items():
        if u.parent_key and u.parent_key not in uses:
            problems.append(f"data_use `{key}`: parent_key `{u.parent_key}` does not exist")

    datasets = {d.fides_key: d for d in taxonomy.dataset}
    for s in taxonomy.system:
        where = f"system `{s.fides_key}`"
        for ref in s.dataset_references or []:
            if ref not in datasets:
                problems.append(f"{where}: dataset_references `{ref}` is not a dataset of this file")
        for d in s.privacy_declarations:
            w = f"{where} privacy declaration `{d.name}`"
            check("data_use", uses, [d.data_use], w)
            check("data_category", cats, d.data_categories, w)
            check("data_subject", subjects, d.data_subjects, w)
            for ref in d.dataset_references or []:
                if ref not in datasets:
                    problems.append(f"{w}: dataset_references `{ref}` is not a dataset of this file")

    field_count = 0
    for d in taxonomy.dataset:
        where = f"dataset `{d.fides_key}`"
        check("data_category", cats, d.data_categories, where)
        check("data_use", uses, d.data_uses, where)
        check("data_subject", subjects, d.data_subjects, where)
        retention = (d.meta or {}).get("retention")
        if retention is not None and not isinstance(retention, dict):
            problems.append(f"{where}: meta.retention must be a mapping of category to text")
            retention = None
        for c in d.collections:
            cw = f"{where} collection `{c.name}`"
            check("data_category", cats, c.data_categories, cw)
            check("data_use", uses, c.data_uses, cw)
            check("data_subject", subjects, c.data_subjects, cw)
            if retention is not None:
                category = c.name.split("_", 1)[0]
                text = retention.get(category)
                if not isinstance(text, str) or not text.strip():
                    problems.append(f"{cw}: no retention for category `{category}` in meta.retention")
            for fw, f in walk_fields(c.fields, cw):
                field_count += 1
                if not f.data_categories:
                    problems.append(f"{fw}: has no data_categories")
                check("data_category", cats, f.data_categories, fw)
                check("data_use", uses, f.data_uses, fw)
                check("data_subject", subjects, f.data_subjects, fw)

    if problems:
        print(f"{path}: invalid against fideslang {fideslang.__version__}:")
        for p in problems:
            print(f"  {p}")
        return 1
    decls = sum(len(s.privacy_declarations) for s in taxonomy.system)
    cols = sum(len(d.collections) for d in taxonomy.dataset)
    print(
        f"{path}: valid against fideslang {fideslang.__version__}: "
        f"{len(taxonomy.system)} system(s), {decls} privacy declaration(s), "
        f"{len(taxonomy.dataset)} dataset(s), {cols} collection(s), {field_count} field(s), "
        f"{len(file_cats)} extension data categor{'y' if len(file_cats) == 1 else 'ies'}; "
        f"every key resolves"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
