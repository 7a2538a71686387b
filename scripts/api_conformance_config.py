"""Writes schemathesis.toml for scripts/api-conformance: the token, the demo organisation in
every path, and for each operation with a record in its path a real record of that kind, so the
cases reach the handlers instead of stopping at 404. Usage: api_conformance_config.py BASE TOKEN"""

import json
import sys
import urllib.request

BASE, TOKEN = sys.argv[1], sys.argv[2]
ORG = "demo"


def get(path):
    request = urllib.request.Request(BASE + path, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def post(path, body):
    request = urllib.request.Request(
        BASE + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def first(collection, key):
    items = get(f"/api/v1/orgs/{ORG}/{collection}?limit=1")["items"]
    return items[0][key] if items else None


def toml(value):
    return json.dumps(value)


document = get("/api/openapi.json")
# A second token for the revoke operation, so the run keeps its own.
spare_token = post(f"/api/v1/orgs/{ORG}/tokens", {"name": "conformance spare"})["id"]

lines = [
    f'headers = {{ Authorization = {toml("Bearer " + TOKEN)} }}',
    "",
    # 428 is the status RFC 6585 gives a change sent without its required If-Match.
    "[checks.missing_required_header]",
    'expected-statuses = ["400", "401", "403", "406", "415", "422", "428"]',
    "",
    # Valid by the schema but refused for what no schema can say: a link to a record that does
    # not exist (422), a change based on a version that is no longer current (412), a state
    # that does not allow the transition (409), a file whose bytes do not agree with its
    # declared type (415). The public concern intake is rate-limited per source, as the product
    # guide says, so a run that sends it many valid concerns is told to wait (429).
    "[checks.positive_data_acceptance]",
    'expected-statuses = ["2xx", "401", "403", "404", "409", "412", "415", "422", "429"]',
    "",
    "[parameters]",
    f'"path.org" = {toml(ORG)}',
    # Changes run against whatever version is current, so they reach the handlers.
    '"header.If-Match" = "*"',
    "",
]
for path in document["paths"]:
    segments = path.split("/")[5:]  # after /api/v1/orgs/{org}
    values = {}
    if not segments:
        continue
    collection = segments[0]
    if len(segments) >= 2 and segments[1] in ("{id}", "{ref}"):
        key = segments[1][1:-1]
        if collection == "tokens":
            values[key] = spare_token
        else:
            value = first(collection, "ref" if key == "ref" else "id")
            if value is None:
                continue
            values[key] = value
        if len(segments) >= 4 and segments[3] == "{child_id}":
            # A parent that has a child of that kind.
            for parent in get(f"/api/v1/orgs/{ORG}/{collection}?limit=200")["items"]:
                children = get(f"/api/v1/orgs/{ORG}/{collection}/{parent['id']}/{segments[2]}?limit=1")["items"]
                if children:
                    values[key], values["child_id"] = parent["id"], children[0]["id"]
                    break
    if "{n}" in path:
        values["n"] = "1"
    if not values:
        continue
    lines.append("[[operations]]")
    lines.append(f"include-path = {toml(path)}")
    lines.append("parameters = { " + ", ".join(f'"path.{k}" = {toml(v)}' for k, v in values.items()) + " }")
    lines.append("")
print("\n".join(lines))
