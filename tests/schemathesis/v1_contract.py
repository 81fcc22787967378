#!/usr/bin/env python3
"""Pipedrive's own v1 document (the 2026-01-14 snapshot, which still has the v1 person CRUD),
cut to the persons, personFields, organizations and users operations pipestack serves, and
pointed at a running pipestack: the contract tests/schemathesis/run_v1.sh checks the server
against.

Six corrections are made to the document, each only where Pipedrive itself contradicts it:
- its schemas omit `nullable` (OpenAPI 3.0) on keys its own examples, and the seed's "Add a
  person" answer, show as null (`org_id`, `picture_id`, `next_activity_date`, ...): those keys
  may be null; every other key must have the documented type (so a null `permission_set_id`
  or `last_login`, which Pipedrive's examples give as strings, still fails);
- it marks times `format: date-time` (RFC 3339) while its examples, 508 of them, and the seed
  write v1 times as `YYYY-MM-DD HH:MM:SS`: the format is dropped, the type kept;
- its `field_type` enum lists the types a field can be created with; the built-in fields have
  others, which the same API's v2 document lists (`int`, `status`): those are added;
- a deal's keys that its other documents show as null (DEAL_NULLABLE, with the reason for
  each) may be null in the v1 deal too;
- activity types' `color` and notes' links may be null (OTHER_NULLABLE, with the reasons);
- a cursor-paged list's `next_cursor` may be null: its own description says it is null at the
  end of the list, while its schema types it a string (`GET /persons/{id}/changelog`).

Usage: v1_contract.py PIPEDRIVE_V1_YAML SEED_RESPONSE_JSON SERVED_OPENAPI_JSON BASE_URL OUT_JSON
"""

import json
import sys
import urllib.request

import yaml

# Deal keys null in Pipedrive's other documents for the same deal: a deal needs neither a
# person nor an organization (v2 requires only `title`), so those and their names are null
# without one; `stage_change_time` is null until the stage first changes (the webhook
# example of a new deal); the next activity's details are null without an activity, as the
# `next_activity_date`/`_time`/`_id` next to them are in the v1 examples themselves.
DEAL_NULLABLE = {
    "person_id",
    "org_id",
    "person_name",
    "org_name",
    "stage_change_time",
    "next_activity_subject",
    "next_activity_type",
    "next_activity_duration",
    "next_activity_note",
}

# Keys of activity types and notes that real answers show as null: a real account's activity
# types have `color: null` (a 2022 account's fixture, DEALS-ACTIVITIES-NOTES.md 4.5); a note
# attaches to a deal, person, organization, lead or project (at least one), so the others'
# objects and ids are null, as `deal_id`, `org_id`, `person_id` and `project_id` already are
# in Pipedrive's examples.
OTHER_NULLABLE = {"color", "deal", "person", "organization", "project", "lead_id"}

# "The value of the `next_cursor` field will be `null` if you have reached the end of the
# dataset" (the document's description of the key its schema types a plain string).
PAGING_NULLABLE = {"next_cursor"}

RESOURCES = {
    "persons",
    "personFields",
    "organizations",
    "organizationFields",
    "users",
    "deals",
    "dealFields",
    "itemSearch",
    "activities",
    "activityTypes",
    "notes",
    "webhooks",
}


def served(openapi_url):
    """(method, path under /v1) pairs the running server documents."""
    with urllib.request.urlopen(openapi_url) as r:
        doc = json.load(r)
    pairs = set()
    for path, item in doc["paths"].items():
        if path.startswith("/v1/"):
            for method in item:
                pairs.add((method.lower(), path[len("/v1"):]))
    return pairs


def null_keys(value, found):
    """The keys that hold null anywhere in an example."""
    if isinstance(value, dict):
        for k, v in value.items():
            if v is None:
                found.add(k)
            null_keys(v, found)
    elif isinstance(value, list):
        for v in value:
            null_keys(v, found)
    return found


def examples(node, found):
    """Every `example` value in the document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "example":
                null_keys(v, found)
            else:
                examples(v, found)
    elif isinstance(node, list):
        for v in node:
            examples(v, found)
    return found


def allow_null(node, keys):
    """Marks the properties named in `keys` nullable, wherever a schema lists them."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for name, schema in props.items():
                if name in keys and isinstance(schema, dict):
                    schema["nullable"] = True
        for v in node.values():
            allow_null(v, keys)
    elif isinstance(node, list):
        for v in node:
            allow_null(v, keys)


def drop_date_time(node):
    """Removes `format: date-time`: v1 writes times as `YYYY-MM-DD HH:MM:SS`."""
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            del node["format"]
        for v in node.values():
            drop_date_time(v)
    elif isinstance(node, list):
        for v in node:
            drop_date_time(v)


def built_in_field_types(node):
    """Adds the built-in fields' types to every `field_type` enum."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and "field_type" in props:
            for part in [props["field_type"], *props["field_type"].get("allOf", [])]:
                if isinstance(part, dict) and "enum" in part:
                    part["enum"] = sorted(set(part["enum"]) | {"int", "status"})
        for v in node.values():
            built_in_field_types(v)
    elif isinstance(node, list):
        for v in node:
            built_in_field_types(v)


def main():
    pipedrive, seed, openapi_url, base, out = sys.argv[1:6]
    with open(pipedrive) as f:
        doc = yaml.safe_load(f)
    with open(seed) as f:
        nullable = null_keys(json.load(f), examples(doc, set())) | DEAL_NULLABLE | OTHER_NULLABLE | PAGING_NULLABLE
    allow_null(doc, nullable)
    drop_date_time(doc)
    built_in_field_types(doc)
    ours = served(openapi_url)
    paths = {}
    for path, item in doc["paths"].items():
        if path.split("/")[1] not in RESOURCES:
            continue
        kept = {m: op for m, op in item.items() if m == "parameters" or (m, path) in ours}
        if any(m != "parameters" for m in kept):
            paths[path] = kept
    doc["paths"] = paths
    doc["servers"] = [{"url": f"{base}/v1"}]
    with open(out, "w") as f:
        json.dump(doc, f)
    operations = sum(1 for item in paths.values() for m in item if m != "parameters")
    print(f"v1 contract: {operations} operations of Pipedrive's document that pipestack serves")
    print(f"keys Pipedrive's examples show as null, allowed null: {', '.join(sorted(nullable))}")


if __name__ == "__main__":
    main()
