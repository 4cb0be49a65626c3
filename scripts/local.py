"""The local stack's everyday commands (`make dlq`, `make redrive`,
`make cat`, `make edit`), against the endpoints `make local` wrote to
target/local/env. boto3 from the Makefile's virtualenv."""

import json
import os
import sys
import urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env():
    path = os.path.join(ROOT, "target", "local", "env")
    if not os.path.exists(path):
        sys.exit("the local stack is not running: start it with `make local`")
    with open(path) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def client(e, service):
    return boto3.client(
        service,
        endpoint_url=e["AWS_ENDPOINT_URL_SQS"],
        region_name=e["AWS_REGION"],
        aws_access_key_id=e["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=e["AWS_SECRET_ACCESS_KEY"],
    )


def messages(sqs, queue, visibility):
    """Every message of the queue; with `visibility` 0 they stay visible
    (a peek), so each is taken once, by its id."""
    out, seen = [], set()
    while True:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=visibility)
        batch = [m for m in got.get("Messages", []) if m["MessageId"] not in seen]
        if not batch:
            return out
        seen.update(m["MessageId"] for m in batch)
        out += batch


def dlq(e):
    """Every dead letter: its code, its reason, and the request (left in the queue)."""
    sqs = client(e, "sqs")
    found = messages(sqs, e["DEAD_LETTER_QUEUE_URL"], 0)
    for m in found:
        body = json.loads(m["Body"])
        failure = body.pop("failure", {})
        print(f"{failure.get('code', '?')}: {failure.get('message', '')}")
        print(f"   {json.dumps(body)}")
    print(f"{len(found)} dead letter(s)")


def redrive(e):
    """Moves every dead letter to the work queue, as it is: the poller runs it."""
    sqs = client(e, "sqs")
    found = messages(sqs, e["DEAD_LETTER_QUEUE_URL"], 30)
    for m in found:
        sqs.send_message(QueueUrl=e["WORK_QUEUE_URL"], MessageBody=m["Body"])
        sqs.delete_message(QueueUrl=e["DEAD_LETTER_QUEUE_URL"], ReceiptHandle=m["ReceiptHandle"])
    print(f"redrove {len(found)} message(s) to the work queue")


def cat(e, uri=""):
    """Prints an S3 object (a report): s3://bucket/key; without one, the
    latest report.md in the reports bucket."""
    s3 = client(e, "s3")
    if not uri:
        bucket = e["REPORTS_BUCKET"]
        objects = s3.list_objects_v2(Bucket=bucket, Prefix="reports/").get("Contents", [])
        md = [o for o in objects if o["Key"].endswith("/report.md")]
        if not md:
            sys.exit("no report yet: run a policy request first")
        uri = "s3://%s/%s" % (bucket, max(md, key=lambda o: o["LastModified"])["Key"])
        print("# " + uri)
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    sys.stdout.write(body.decode())


def edit(e, package, version, set_file, domain="", repository="", namespace=""):
    """Sets one field of one CodeArtifact version in the emulator's state
    (GET, then PUT /_emulator/state): `deleteAllowed=true`, `status="Archived"`.
    The assignment is read from `set_file` as written. When the package and
    version are in more than one place, DOMAIN, REPOSITORY or NAMESPACE say
    which."""
    with open(set_file) as f:
        assignment = f.read().strip()
    if not package or not version or "=" not in assignment:
        sys.exit("give PACKAGE=<name> VERSION=<v> SET=<field>=<json> "
                 "[DOMAIN=<d>] [REPOSITORY=<r>] [NAMESPACE=<n>]")
    field, value = assignment.split("=", 1)
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as err:
        sys.exit(f"SET: {value!r} is not JSON ({err}); strings need quotes: status='\"Archived\"'")
    url = e["EMULATOR_URL"] + "/_emulator/state"
    state = json.load(urllib.request.urlopen(url))
    found = []
    for dname, d in state["codeartifact"]["domains"].items():
        for rname, repo in d["repositories"].items():
            for p in repo["packages"]:
                where = (dname, rname, p.get("namespace") or "")
                if p["package"] != package or any(
                        want and want != got for want, got in zip((domain, repository, namespace), where)):
                    continue
                found += [(where, v) for v in p["versions"] if v["version"] == version]
    if not found:
        sys.exit(f"no CodeArtifact version {package}@{version} in the emulator")
    if len(found) > 1:
        places = ", ".join("/".join(w) for w, _ in found)
        sys.exit(f"{package}@{version} is in {places}: say which with DOMAIN, REPOSITORY or NAMESPACE")
    found[0][1][field] = parsed
    req = urllib.request.Request(url, data=json.dumps(state).encode(), method="PUT",
                                 headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()
    print(f"{'/'.join(found[0][0])}/{package}@{version}: {field} = {value}")


if __name__ == "__main__":
    e = env()
    command, args = sys.argv[1], sys.argv[2:]
    if command != "edit":
        args = [a for a in args if a]
    {"dlq": dlq, "redrive": redrive, "cat": cat, "edit": edit}[command](e, *args)
