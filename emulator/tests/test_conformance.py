"""The emulator, checked with a second, independent client: boto3.

botocore parses every response and error with the same service models
(codeartifact 2018-09-22, iot 2015-05-28) the emulator follows, so a parse
failure or a wrong field here is a wire-level difference from AWS.
"""

import hashlib
import json
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import boto3
import botocore.exceptions
import botocore.session
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "packprune-emulator"

SEED = {
    "codeartifact": {"domains": {"acme": {"repositories": {"releases": {"packages": [
        {"format": "npm", "namespace": "acme", "package": "web", "versions": [
            {"version": "1.0.0", "publishedTime": "2026-01-01T00:00:00Z"},
            {"version": "1.1.0", "publishedTime": "2026-02-01T00:00:00Z", "status": "Unlisted"},
            {"version": "1.2.0", "publishedTime": "2026-03-01T00:00:00Z", "deleteAllowed": False},
            {"version": "2.0.0", "publishedTime": "2026-04-01T00:00:00Z", "originType": "EXTERNAL"},
        ]},
        {"format": "pypi", "package": "tool", "versions": [{"version": "0.1"}]},
        {"format": "maven", "namespace": "com.acme", "package": "svc", "versions": [{"version": "1.0-SNAPSHOT"}]},
    ]}}}}},
    "iot": {"packages": {
        "thermostat-fw": {"defaultVersion": "1.1.0", "versions": {"1.0.0": {}, "1.1.0": {}, "2.0.0-beta": {"status": "DRAFT"}}},
        "empty-fw": {},
    }},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def emulator():
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run `cargo build -p packprune-emulator` first")
    port = free_port()
    proc = subprocess.Popen([str(BINARY), "--port", str(port)], stdout=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/_emulator/health")
            break
        except OSError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(5)


def admin(url, method, what, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}/_emulator/{what}", data=data, method=method)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


@pytest.fixture()
def seeded(emulator):
    admin(emulator, "PUT", "state", SEED)
    admin(emulator, "DELETE", "calls")
    return emulator


def client(service, url):
    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def scope(**extra):
    return dict(domain="acme", repository="releases", format="npm", namespace="acme", package="web", **extra)


def test_codeartifact_list_packages_paginates_and_filters(seeded):
    ca = client("codeartifact", seeded)
    pages = list(ca.get_paginator("list_packages").paginate(domain="acme", repository="releases", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 2
    names = [p["package"] for page in pages for p in page["packages"]]
    assert names == ["web", "tool", "svc"]
    assert pages[0]["packages"][0]["originConfiguration"]["restrictions"] == {"publish": "ALLOW", "upstream": "ALLOW"}
    assert [p["package"] for p in ca.list_packages(domain="acme", repository="releases", packagePrefix="t")["packages"]] == ["tool"]
    assert [p["package"] for p in ca.list_packages(domain="acme", repository="releases", format="maven", namespace="com.")["packages"]] == ["svc"]


def test_codeartifact_list_package_versions_sorts_filters_and_paginates(seeded):
    ca = client("codeartifact", seeded)
    pages = list(ca.get_paginator("list_package_versions").paginate(**scope(sortBy="PUBLISHED_TIME"), PaginationConfig={"PageSize": 3}))
    versions = [v["version"] for page in pages for v in page["versions"]]
    assert versions == ["2.0.0", "1.2.0", "1.1.0", "1.0.0"]
    assert len(pages) == 2
    first = pages[0]
    assert first["format"] == "npm" and first["namespace"] == "acme" and first["package"] == "web"
    assert first["versions"][0]["origin"] == {"domainEntryPoint": {"repositoryName": "releases"}, "originType": "EXTERNAL"}
    unlisted = ca.list_package_versions(**scope(status="Unlisted"))["versions"]
    assert [v["version"] for v in unlisted] == ["1.1.0"]
    external = ca.list_package_versions(**scope(originType="EXTERNAL"))["versions"]
    assert [v["version"] for v in external] == ["2.0.0"]


def test_codeartifact_describe_package_version_has_published_time(seeded):
    ca = client("codeartifact", seeded)
    d = ca.describe_package_version(**scope(packageVersion="1.1.0"))["packageVersion"]
    assert d["publishedTime"] == datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert d["status"] == "Unlisted" and d["version"] == "1.1.0" and d["packageName"] == "web"
    with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
        ca.describe_package_version(**scope(packageVersion="9.9.9"))
    assert e.value.response["resourceType"] == "package-version"


def test_codeartifact_delete_package_versions_reports_each_version(seeded):
    ca = client("codeartifact", seeded)
    out = ca.delete_package_versions(**scope(versions=["1.0.0", "1.1.0", "1.2.0", "9.9.9"], expectedStatus="Published"))
    assert set(out["successfulVersions"]) == {"1.0.0"}
    assert out["successfulVersions"]["1.0.0"]["status"] == "Deleted"
    codes = {v: e["errorCode"] for v, e in out["failedVersions"].items()}
    assert codes == {"1.1.0": "MISMATCHED_STATUS", "1.2.0": "NOT_ALLOWED", "9.9.9": "NOT_FOUND"}
    remaining = [v["version"] for v in ca.list_package_versions(**scope())["versions"]]
    assert remaining == ["1.1.0", "1.2.0", "2.0.0"]


def test_codeartifact_validation_and_not_found_errors(seeded):
    ca = client("codeartifact", seeded)
    with pytest.raises(ca.exceptions.ValidationException) as e:
        ca.delete_package_versions(**scope(versions=[f"0.0.{i}" for i in range(101)]))
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["reason"] == "FIELD_VALIDATION_FAILED"
    with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
        ca.delete_package_versions(domain="acme", repository="nope", format="npm", package="web", versions=["1"])
    assert e.value.response["resourceType"] == "repository"
    with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
        ca.delete_package(domain="acme", repository="releases", format="npm", package="absent")
    assert e.value.response["resourceType"] == "package"
    with pytest.raises(ca.exceptions.ValidationException):
        ca.list_packages(domain="Not_A_Domain", repository="releases")


def test_codeartifact_update_status_and_delete_package(seeded):
    ca = client("codeartifact", seeded)
    out = ca.update_package_versions_status(**scope(versions=["1.0.0", "9.9.9"], targetStatus="Archived"))
    assert out["successfulVersions"]["1.0.0"]["status"] == "Archived"
    assert out["failedVersions"]["9.9.9"]["errorCode"] == "NOT_FOUND"
    rev = ca.list_package_versions(**scope(status="Published"))["versions"][0]["revision"]
    out = ca.update_package_versions_status(**scope(versions=["1.2.0"], versionRevisions={"1.2.0": "wrong"}, targetStatus="Unlisted"))
    assert out["failedVersions"]["1.2.0"]["errorCode"] == "MISMATCHED_REVISION"
    assert rev
    deleted = ca.delete_package(domain="acme", repository="releases", format="pypi", package="tool")["deletedPackage"]
    assert deleted["package"] == "tool" and deleted["format"] == "pypi"


def test_codeartifact_throttling_carries_retry_after(seeded):
    admin(seeded, "PUT", "faults", {"codeartifact:DeletePackageVersions": {"throttle": {"ratePerSecond": 0.001, "burst": 1, "retryAfterSeconds": 7}}})
    ca = client("codeartifact", seeded)
    ca.delete_package_versions(**scope(versions=["1.0.0"]))
    with pytest.raises(ca.exceptions.ThrottlingException) as e:
        ca.delete_package_versions(**scope(versions=["2.0.0"]))
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert e.value.response["retryAfterSeconds"] == 7
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "7"
    calls = admin(seeded, "GET", "calls")
    assert [(c["operation"], c["status"], c.get("retryAfter")) for c in calls] == [
        ("DeletePackageVersions", 200, None), ("DeletePackageVersions", 429, 7)]


def test_injected_server_errors_and_dropped_connections(seeded):
    admin(seeded, "PUT", "faults", {"codeartifact:*": {"errorRate": 1.0}, "iot:GetPackage": {"dropRate": 1.0}})
    ca = client("codeartifact", seeded)
    with pytest.raises(ca.exceptions.InternalServerException):
        ca.list_packages(domain="acme", repository="releases")
    iot = client("iot", seeded)
    with pytest.raises((botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError)):
        iot.get_package(packageName="thermostat-fw")
    assert [c["status"] for c in admin(seeded, "GET", "calls")] == [500, 0]


def test_iot_packages_and_versions(seeded):
    iot = client("iot", seeded)
    p = iot.get_package(packageName="thermostat-fw")
    assert p["defaultVersionName"] == "1.1.0"
    assert p["packageArn"] == "arn:aws:iot:us-east-1:111122223333:package/thermostat-fw"
    assert isinstance(p["creationDate"], datetime)
    pages = list(iot.get_paginator("list_package_versions").paginate(packageName="thermostat-fw", PaginationConfig={"PageSize": 2}))
    assert [v["versionName"] for page in pages for v in page["packageVersionSummaries"]] == ["1.0.0", "1.1.0", "2.0.0-beta"]
    drafts = iot.list_package_versions(packageName="thermostat-fw", status="DRAFT")["packageVersionSummaries"]
    assert [v["versionName"] for v in drafts] == ["2.0.0-beta"]
    summaries = [s for page in iot.get_paginator("list_packages").paginate(PaginationConfig={"PageSize": 1}) for s in page["packageSummaries"]]
    assert [s["packageName"] for s in summaries] == ["empty-fw", "thermostat-fw"]
    v = iot.get_package_version(packageName="thermostat-fw", versionName="1.0.0")
    assert v["status"] == "PUBLISHED" and v["packageVersionArn"].endswith("package/thermostat-fw/version/1.0.0")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_package(packageName="absent")


def test_iot_default_version_rules(seeded):
    iot = client("iot", seeded)
    token = "4a4f6c5e-0b7e-5d3c-9a61-0d2b7c1e9f00"
    with pytest.raises(iot.exceptions.ValidationException):
        iot.delete_package_version(packageName="thermostat-fw", versionName="1.1.0", clientToken=token)
    with pytest.raises(iot.exceptions.ValidationException):
        iot.delete_package(packageName="thermostat-fw")
    with pytest.raises(iot.exceptions.ValidationException):
        iot.update_package(packageName="thermostat-fw", defaultVersionName="1.0.0", unsetDefaultVersion=True)
    with pytest.raises(iot.exceptions.ConflictException):
        iot.update_package(packageName="thermostat-fw", defaultVersionName="2.0.0-beta")
    iot.update_package(packageName="thermostat-fw", unsetDefaultVersion=True, clientToken=token)
    assert "defaultVersionName" not in iot.get_package(packageName="thermostat-fw")
    for v in ["1.0.0", "1.1.0", "2.0.0-beta"]:
        iot.delete_package_version(packageName="thermostat-fw", versionName=v, clientToken=token)
    # Idempotent: deleting again, or deleting what never existed, succeeds.
    iot.delete_package_version(packageName="thermostat-fw", versionName="1.0.0")
    iot.delete_package(packageName="thermostat-fw")
    iot.delete_package(packageName="thermostat-fw")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_package(packageName="thermostat-fw")
    tokens = [c.get("clientToken") for c in admin(seeded, "GET", "calls") if c["operation"] == "UpdatePackage" and c["status"] == 200]
    assert tokens == [token]


def test_iot_create_and_validation(seeded):
    iot = client("iot", seeded)
    out = iot.create_package(packageName="new-fw", description="new")
    assert out["packageName"] == "new-fw" and out["description"] == "new"
    with pytest.raises(iot.exceptions.ConflictException):
        iot.create_package(packageName="new-fw")
    v = iot.create_package_version(packageName="new-fw", versionName="0.1.0", attributes={"board": "rev-b"})
    assert v["status"] == "DRAFT" and v["attributes"] == {"board": "rev-b"}
    with pytest.raises(iot.exceptions.ValidationException):
        iot.get_package(packageName="bad name!")
    with pytest.raises(iot.exceptions.ValidationException):
        iot.list_package_versions(packageName="new-fw", maxResults=101)


def test_iot_throttling_is_a_400_without_a_hint(seeded):
    admin(seeded, "PUT", "faults", {"iot:*": {"throttle": {"ratePerSecond": 0.001, "burst": 0}}})
    iot = client("iot", seeded)
    with pytest.raises(iot.exceptions.ThrottlingException) as e:
        iot.list_packages()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "retry-after" not in e.value.response["ResponseMetadata"]["HTTPHeaders"]


def test_seed_files_load(emulator):
    seed = ROOT / "emulator" / "seeds" / "demo.json"
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        port_file = Path(d) / "port"
        proc = subprocess.Popen([str(BINARY), "--port", "0", "--seed", str(seed), "--port-file", str(port_file)], stdout=subprocess.PIPE)
        try:
            for _ in range(100):
                if port_file.exists() and port_file.read_text():
                    break
                time.sleep(0.05)
            url = f"http://127.0.0.1:{port_file.read_text()}"
            state = admin(url, "GET", "state")
            assert len(state["iot"]["packages"]) >= 2
            assert all(p["versions"] for r in state["codeartifact"]["domains"]["acme"]["repositories"].values() for p in r["packages"])
        finally:
            proc.terminate()
            proc.wait(5)
    assert port


def in_use_seed():
    seed = json.loads(json.dumps(SEED))
    arn = "arn:aws:iot:us-east-1:111122223333:package/thermostat-fw/version/1.0.0"
    seed["iot"]["things"] = {"t1": {"thermostat-fw": "1.1.0"}, "t2": {"thermostat-fw": "1.1.0"}, "t3": {"thermostat-fw": "1.0.0"}}
    seed["iot"]["jobs"] = {"rollout-1": {"status": "IN_PROGRESS", "destinationPackageVersions": [arn]},
                           "old-1": {"status": "COMPLETED", "destinationPackageVersions": [arn]}}
    return seed


def test_iot_fleet_index_finds_things_by_package_version(seeded):
    admin(seeded, "PUT", "state", in_use_seed())
    iot = client("iot", seeded)
    config = iot.get_indexing_configuration()["thingIndexingConfiguration"]
    assert config["thingIndexingMode"] == "REGISTRY_AND_SHADOW"
    assert config["namedShadowIndexingMode"] == "ON" and "$package" in config["filter"]["namedShadowNames"]
    query = 'shadow.name.$package.reported.thermostat-fw.version:"1.1.0"'
    pages = [iot.search_index(indexName="AWS_Things", queryString=query, maxResults=1)]
    while "nextToken" in pages[-1]:
        pages.append(iot.search_index(indexName="AWS_Things", queryString=query, maxResults=1, nextToken=pages[-1]["nextToken"]))
    assert [t["thingName"] for p in pages for t in p["things"]] == ["t1", "t2"]
    assert json.loads(pages[0]["things"][0]["shadow"])["name"]["$package"]["reported"]["thermostat-fw"]["version"] == "1.1.0"
    none = iot.search_index(queryString="shadow.name.$package.reported.thermostat-fw.version:9.9.9")
    assert none["things"] == []
    with pytest.raises(iot.exceptions.InvalidQueryException):
        iot.search_index(queryString="attributes.colour:red")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.search_index(queryString=query, maxResults=101)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.search_index(indexName="AWS_ThingGroups_x", queryString=query)
    # OR joins terms (the guide's "Query syntax"); a query holds at most 12.
    field = "shadow.name.$package.reported.thermostat-fw.version"
    either = iot.search_index(queryString=f'{field}:"1.0.0" OR {field}:"9.9.9"')
    assert [t["thingName"] for t in either["things"]] == ["t3"]
    both = iot.search_index(queryString=f'{field}:"1.0.0" OR {field}:"1.1.0"')
    assert [t["thingName"] for t in both["things"]] == ["t1", "t2", "t3"]
    with pytest.raises(iot.exceptions.InvalidQueryException):
        iot.search_index(queryString=" OR ".join(f'{field}:"1.0.{i}"' for i in range(13)))


def test_iot_search_without_package_indexing_finds_nothing(seeded):
    seed = in_use_seed()
    seed["iot"]["indexing"] = {"namedShadowNames": ["other"]}
    admin(seeded, "PUT", "state", seed)
    iot = client("iot", seeded)
    assert iot.get_indexing_configuration()["thingIndexingConfiguration"]["filter"]["namedShadowNames"] == ["other"]
    assert iot.search_index(queryString='shadow.name.$package.reported.thermostat-fw.version:"1.1.0"')["things"] == []


def test_iot_jobs_list_by_status_and_name_package_versions(seeded):
    admin(seeded, "PUT", "state", in_use_seed())
    iot = client("iot", seeded)
    running = iot.list_jobs(status="IN_PROGRESS")["jobs"]
    assert [j["jobId"] for j in running] == ["rollout-1"]
    assert [j["jobId"] for j in iot.list_jobs()["jobs"]] == ["old-1", "rollout-1"]
    # JobSummary.createdAt and Job.createdAt are timestamps in the model.
    assert all(isinstance(j["createdAt"], datetime) for j in running)
    job = iot.describe_job(jobId="rollout-1")["job"]
    assert job["createdAt"] == running[0]["createdAt"]
    assert job["destinationPackageVersions"] == ["arn:aws:iot:us-east-1:111122223333:package/thermostat-fw/version/1.0.0"]
    assert job["jobArn"].endswith(":job/rollout-1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_job(jobId="absent")
    with pytest.raises(botocore.exceptions.ClientError):
        iot.list_jobs(status="RUNNING")


def test_iot_update_package_version_deprecates_and_republishes(seeded):
    iot = client("iot", seeded)
    token = "4a4f6c5e-0b7e-5d3c-9a61-0d2b7c1e9f01"
    iot.update_package_version(packageName="thermostat-fw", versionName="1.0.0", action="DEPRECATE", clientToken=token)
    assert iot.get_package_version(packageName="thermostat-fw", versionName="1.0.0")["status"] == "DEPRECATED"
    iot.update_package_version(packageName="thermostat-fw", versionName="1.0.0", action="PUBLISH")
    assert iot.get_package_version(packageName="thermostat-fw", versionName="1.0.0")["status"] == "PUBLISHED"
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_package_version(packageName="thermostat-fw", versionName="9.9.9", action="DEPRECATE")
    with pytest.raises(iot.exceptions.ConflictException):
        iot.update_package_version(packageName="thermostat-fw", versionName="2.0.0-beta", action="DEPRECATE")


def test_codeartifact_default_display_version_is_the_seeded_latest(seeded):
    seed = json.loads(json.dumps(SEED))
    pkg = seed["codeartifact"]["domains"]["acme"]["repositories"]["releases"]["packages"][0]
    pkg["defaultDisplayVersion"] = pkg["versions"][0]["version"]
    admin(seeded, "PUT", "state", seed)
    ca = client("codeartifact", seeded)
    out = ca.list_package_versions(**scope(), status="Published", maxResults=1)
    assert out["defaultDisplayVersion"] == pkg["versions"][0]["version"]


# Names as published; the emulator stores and answers them normalised, as the
# CodeArtifact user guide's normalisation pages describe. A seed of its own:
# the shared SEED's listings are counted by the tests above.
NORMALISATION_SEED = {
    "codeartifact": {"domains": {"acme": {"repositories": {"releases": {"packages": [
        {"format": "nuget", "package": "Acme.Logging", "versions": [
            {"version": "1.0.7+r3456"}, {"version": "2.01.0"}, {"version": "1.0.0.0"}]},
        {"format": "pypi", "package": "Pigeon_CLI", "versions": [{"version": "1.0.0.0"}]},
        {"format": "swift", "namespace": "MyScope", "package": "MyPackage", "versions": [{"version": "1.0.0"}]},
    ]}}}}},
}


@pytest.fixture()
def normalisation(seeded):
    admin(seeded, "PUT", "state", NORMALISATION_SEED)
    return seeded


def nuget(**extra):
    return dict(domain="acme", repository="releases", format="nuget", package="Acme.Logging", **extra)


def test_codeartifact_lists_and_describes_normalised_names(normalisation):
    ca = client("codeartifact", normalisation)
    listed = [(p["format"], p.get("namespace"), p["package"])
              for p in ca.list_packages(domain="acme", repository="releases")["packages"]]
    assert listed == [("nuget", None, "acme.logging"), ("pypi", None, "pigeon-cli"), ("swift", "myscope", "mypackage")]
    prefixed = ca.list_packages(domain="acme", repository="releases", format="nuget", packagePrefix="Acme.")["packages"]
    assert [p["package"] for p in prefixed] == ["acme.logging"]
    scoped = ca.list_packages(domain="acme", repository="releases", format="swift", namespace="MyS")["packages"]
    assert [p["package"] for p in scoped] == ["mypackage"]

    out = ca.list_package_versions(**nuget())
    assert out["package"] == "acme.logging"
    assert sorted(v["version"] for v in out["versions"]) == ["1.0.0", "1.0.7", "2.1.0"]
    swift = ca.list_package_versions(domain="acme", repository="releases", format="swift", namespace="MyScope", package="MyPackage")
    assert (swift["namespace"], swift["package"], [v["version"] for v in swift["versions"]]) == ("myscope", "mypackage", ["1.0.0"])

    d = ca.describe_package_version(**nuget(packageVersion="2.01.0"))["packageVersion"]
    assert (d["packageName"], d["displayName"], d["version"]) == ("acme.logging", "Acme.Logging", "2.1.0")
    d = ca.describe_package_version(domain="acme", repository="releases", format="swift", namespace="MyScope",
                                    package="MyPackage", packageVersion="1.0.0")["packageVersion"]
    assert (d["namespace"], d["packageName"], d["displayName"]) == ("myscope", "mypackage", "MyPackage")

    # Python: stored as `pigeon-cli`, versions as written; requests must use
    # the normalised name (the Python page), so `pigeon.cli` finds nothing.
    pypi = dict(domain="acme", repository="releases", format="pypi")
    d = ca.describe_package_version(**pypi, package="pigeon-cli", packageVersion="1.0.0.0")["packageVersion"]
    assert (d["packageName"], d["displayName"], d["version"]) == ("pigeon-cli", "Pigeon_CLI", "1.0.0.0")
    with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
        ca.list_package_versions(**pypi, package="pigeon.cli")
    assert e.value.response["resourceType"] == "package"


def test_codeartifact_answers_normalised_versions_once(normalisation):
    ca = client("codeartifact", normalisation)
    out = ca.update_package_versions_status(**nuget(versions=["2.01.0"], versionRevisions={"2.01.0": "wrong"}, targetStatus="Archived"))
    assert out["successfulVersions"] == {} and list(out["failedVersions"]) == ["2.1.0"]
    assert out["failedVersions"]["2.1.0"]["errorCode"] == "MISMATCHED_REVISION"

    out = ca.delete_package_versions(**nuget(versions=["1.0.7+r3456", "2.01.0"]))
    assert set(out["successfulVersions"]) == {"1.0.7", "2.1.0"} and out["failedVersions"] == {}
    out = ca.delete_package_versions(**nuget(versions=["1.0.0", "1.0.0.0"]))
    assert list(out["successfulVersions"]) == ["1.0.0"] and out["failedVersions"] == {}
    assert ca.list_package_versions(**nuget())["versions"] == []
    out = ca.delete_package_versions(**nuget(versions=["1.00.0.0"]))
    assert list(out["failedVersions"]) == ["1.0.0"] and out["failedVersions"]["1.0.0"]["errorCode"] == "NOT_FOUND"


# ListPackageVersionDependencies and ListRepositoriesInDomain. A seed of its
# own: the shared SEED's listings are counted by the tests above.
DEPENDENCY_PAGE_SIZE = 100  # the emulator's (dependencies::PAGE_SIZE); the model has no maxResults
MANY_DEPENDENCIES = [{"namespace": "acme", "package": f"dep-{i:03}", "dependencyType": "regular", "versionRequirement": f"^{i}.0.0"}
                     for i in range(2 * DEPENDENCY_PAGE_SIZE + 50)]
DEPENDENCY_SEED = {
    "codeartifact": {"domains": {
        "acme": {"repositories": {
            "apps": {"description": "Applications", "packages": [
                {"format": "npm", "namespace": "acme", "package": "ui", "versions": [
                    {"version": "3.0.0", "dependencies": [
                        {"namespace": "acme", "package": "core", "dependencyType": "regular", "versionRequirement": "1.2.0"}]},
                    {"version": "3.1.0", "dependencies": [
                        {"namespace": "acme", "package": "core", "dependencyType": "regular", "versionRequirement": "^1.4.0"},
                        {"package": "typescript", "dependencyType": "dev", "versionRequirement": "~5.4.5"}]},
                    {"version": "4.0.0-monorepo", "dependencies": MANY_DEPENDENCIES},
                    {"version": "0.1.0"}]},
                {"format": "nuget", "package": "Acme.Dashboard", "versions": [
                    {"version": "1.00.0", "dependencies": [{"package": "Acme.Primitives", "versionRequirement": "[1.1.0, 2.0.0)"}]}]},
                {"format": "pypi", "package": "acme-reports", "versions": [
                    {"version": "2.0.0", "dependencies": [
                        {"package": "acme-models", "dependencyType": "Requires-Dist", "versionRequirement": ">=1.2,<2"}]}]},
                {"format": "maven", "namespace": "com.acme", "package": "payments-client", "versions": [
                    {"version": "1.1.0", "dependencies": [
                        {"namespace": "com.acme", "package": "acme-parent", "dependencyType": "parent", "versionRequirement": "7"},
                        {"namespace": "com.acme", "package": "ledger-core", "dependencyType": "compile", "versionRequirement": "[1.0,2.0)"},
                        {"namespace": "org.junit.jupiter", "package": "junit-jupiter", "dependencyType": "test", "versionRequirement": "5.10.2"}]}]},
            ]},
            "app-shared": {"administratorAccount": "444455556666"},
            "libs": {"packages": [{"format": "npm", "namespace": "acme", "package": "core", "versions": [
                {"version": f"1.{i}.0"} for i in range(10)]}]},
            "releases": {"description": "Release builds", "createdTime": "2025-01-01T00:00:00Z"},
            "snapshots": {},
        }},
        "other": {"owner": "444455556666", "repositories": {"vendor": {}}},
    }},
}


@pytest.fixture()
def dependencies(seeded):
    admin(seeded, "PUT", "state", DEPENDENCY_SEED)
    return seeded


def raw_bodies(client):
    """The JSON bodies the emulator answered, before botocore parses them
    (its parser drops members the model does not have)."""
    bodies = []
    client.meta.events.register("before-parse.codeartifact", lambda response_dict, **_: bodies.append(json.loads(response_dict["body"] or b"{}")))
    return bodies


def assert_in_shape(value, shape, path="$"):
    """Every member of `value` is one `shape` has, with its type."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: {value!r} is not a {shape.name}"
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: {sorted(unknown)} are not members of {shape.name}"
        for k, v in value.items():
            assert_in_shape(v, shape.members[k], f"{path}.{k}")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, v in enumerate(value):
            assert_in_shape(v, shape.member, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), path
        for k, v in value.items():
            assert_in_shape(v, shape.value, f"{path}.{k}")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: {value!r}"
        assert not shape.enum or value in shape.enum, f"{path}: {value!r} not in {shape.enum}"
    elif kind == "timestamp":
        assert isinstance(value, (int, float)), f"{path}: {value!r}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int), f"{path}: {value!r}"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{path}: {value!r}"


def output_shape(client, operation):
    return client.meta.service_model.operation_model(operation).output_shape


def ui(**extra):
    return dict(domain="acme", repository="apps", format="npm", namespace="acme", package="ui", **extra)


def test_codeartifact_list_package_version_dependencies_answers_the_model(dependencies):
    ca = client("codeartifact", dependencies)
    bodies = raw_bodies(ca)
    out = ca.list_package_version_dependencies(**ui(packageVersion="3.1.0"))
    assert (out["format"], out["namespace"], out["package"], out["version"]) == ("npm", "acme", "ui", "3.1.0")
    assert out["versionRevision"] == ca.describe_package_version(**ui(packageVersion="3.1.0"))["packageVersion"]["revision"]
    assert out["dependencies"] == [
        {"namespace": "acme", "package": "core", "dependencyType": "regular", "versionRequirement": "^1.4.0"},
        {"package": "typescript", "dependencyType": "dev", "versionRequirement": "~5.4.5"}]
    assert "nextToken" not in out
    assert ca.list_package_version_dependencies(**ui(packageVersion="3.0.0"))["dependencies"] == [
        {"namespace": "acme", "package": "core", "dependencyType": "regular", "versionRequirement": "1.2.0"}]
    # A version that declares nothing: an empty list.
    assert ca.list_package_version_dependencies(**ui(packageVersion="0.1.0"))["dependencies"] == []
    # Each format's metadata: Maven's types (a parent among them), PyPI's
    # Requires-Dist; NuGet's none, looked up as DescribePackageVersion
    # looks it up (name and version normalised), no namespace answered.
    maven = ca.list_package_version_dependencies(domain="acme", repository="apps", format="maven", namespace="com.acme",
                                                 package="payments-client", packageVersion="1.1.0")
    assert [(d["dependencyType"], d["versionRequirement"]) for d in maven["dependencies"]] == [
        ("parent", "7"), ("compile", "[1.0,2.0)"), ("test", "5.10.2")]
    pypi = ca.list_package_version_dependencies(domain="acme", repository="apps", format="pypi", package="acme-reports", packageVersion="2.0.0")
    assert pypi["dependencies"] == [{"package": "acme-models", "dependencyType": "Requires-Dist", "versionRequirement": ">=1.2,<2"}]
    nuget = ca.list_package_version_dependencies(domain="acme", repository="apps", format="nuget", package="ACME.Dashboard", packageVersion="1.0.0.0")
    assert (nuget["package"], nuget["version"], "namespace" in nuget) == ("acme.dashboard", "1.0.0", False)
    assert nuget["dependencies"] == [{"package": "Acme.Primitives", "versionRequirement": "[1.1.0, 2.0.0)"}]
    dependency_bodies = [b for b in bodies if "dependencies" in b]
    assert len(dependency_bodies) == 6
    for body in dependency_bodies:
        assert_in_shape(body, output_shape(ca, "ListPackageVersionDependencies"))


def test_codeartifact_list_package_version_dependencies_pages_with_next_token(dependencies):
    ca = client("codeartifact", dependencies)
    # botocore has no paginator for it (the model has no maxResults): the
    # client follows nextToken itself.
    assert not ca.can_paginate("list_package_version_dependencies")
    pages = [ca.list_package_version_dependencies(**ui(packageVersion="4.0.0-monorepo"))]
    while "nextToken" in pages[-1]:
        pages.append(ca.list_package_version_dependencies(**ui(packageVersion="4.0.0-monorepo"), nextToken=pages[-1]["nextToken"]))
    assert [len(p["dependencies"]) for p in pages] == [DEPENDENCY_PAGE_SIZE, DEPENDENCY_PAGE_SIZE, 50]
    assert [d for p in pages for d in p["dependencies"]] == MANY_DEPENDENCIES
    assert all(p["version"] == "4.0.0-monorepo" and p["versionRevision"] == pages[0]["versionRevision"] for p in pages)
    with pytest.raises(ca.exceptions.ValidationException):
        ca.list_package_version_dependencies(**ui(packageVersion="4.0.0-monorepo"), nextToken="not-a-token")
    calls = [c for c in admin(dependencies, "GET", "calls") if c["operation"] == "ListPackageVersionDependencies"]
    assert [(c["status"], c["repository"], c["package"], c["versions"]) for c in calls] == \
        [(200, "apps", "ui", ["4.0.0-monorepo"])] * 3 + [(400, "apps", "ui", ["4.0.0-monorepo"])]


def test_codeartifact_list_package_version_dependencies_not_found(dependencies):
    ca = client("codeartifact", dependencies)
    for request, kind in [
        (ui(packageVersion="9.9.9"), "package-version"),
        (dict(ui(packageVersion="3.1.0"), namespace="other"), "package"),
        (dict(ui(packageVersion="3.1.0"), repository="libs"), "package"),
        (dict(ui(packageVersion="3.1.0"), repository="absent"), "repository"),
        (dict(ui(packageVersion="3.1.0"), domain="absent"), "domain"),
        (dict(ui(packageVersion="3.1.0"), domainOwner="999999999999"), "domain"),
    ]:
        with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
            ca.list_package_version_dependencies(**request)
        assert e.value.response["resourceType"] == kind, request
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ca.exceptions.ValidationException):
        ca.list_package_version_dependencies(**dict(ui(packageVersion="3.1.0"), format="jar"))


def test_codeartifact_list_repositories_in_domain_answers_the_model(dependencies):
    ca = client("codeartifact", dependencies)
    bodies = raw_bodies(ca)
    repos = ca.list_repositories_in_domain(domain="acme")["repositories"]
    assert [r["name"] for r in repos] == ["app-shared", "apps", "libs", "releases", "snapshots"]
    releases = repos[3]
    assert releases == {
        "name": "releases", "administratorAccount": "111122223333", "domainName": "acme", "domainOwner": "111122223333",
        "arn": "arn:aws:codeartifact:us-east-1:111122223333:repository/acme/releases", "description": "Release builds",
        "createdTime": datetime(2025, 1, 1, tzinfo=timezone.utc)}
    assert all(isinstance(r["createdTime"], datetime) for r in repos)
    assert "description" not in repos[0] and repos[0]["administratorAccount"] == "444455556666"
    other = ca.list_repositories_in_domain(domain="other", domainOwner="444455556666")["repositories"]
    assert [(r["name"], r["domainOwner"], r["arn"]) for r in other] == [
        ("vendor", "444455556666", "arn:aws:codeartifact:us-east-1:444455556666:repository/other/vendor")]
    assert [r["name"] for r in ca.list_repositories_in_domain(domain="acme", administratorAccount="444455556666")["repositories"]] == ["app-shared"]
    for body in bodies:
        assert_in_shape(body, output_shape(ca, "ListRepositoriesInDomain"))
    assert len(bodies) == 3


def test_codeartifact_list_repositories_in_domain_filters_by_prefix_and_pages(dependencies):
    ca = client("codeartifact", dependencies)
    prefixed = ca.list_repositories_in_domain(domain="acme", repositoryPrefix="ap")["repositories"]
    assert [r["name"] for r in prefixed] == ["app-shared", "apps"]
    assert ca.list_repositories_in_domain(domain="acme", repositoryPrefix="zz")["repositories"] == []
    pages = list(ca.get_paginator("list_repositories_in_domain").paginate(domain="acme", PaginationConfig={"PageSize": 2}))
    assert [[r["name"] for r in p["repositories"]] for p in pages] == [["app-shared", "apps"], ["libs", "releases"], ["snapshots"]]
    assert "nextToken" not in pages[-1]
    both = list(ca.get_paginator("list_repositories_in_domain").paginate(domain="acme", repositoryPrefix="ap", PaginationConfig={"PageSize": 1}))
    assert [r["name"] for p in both for r in p["repositories"]] == ["app-shared", "apps"]
    calls = [c["operation"] for c in admin(dependencies, "GET", "calls")]
    assert calls == ["ListRepositoriesInDomain"] * (2 + 3 + 2)


def test_codeartifact_list_repositories_in_domain_errors(dependencies):
    ca = client("codeartifact", dependencies)
    with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
        ca.list_repositories_in_domain(domain="absent")
    assert (e.value.response["resourceType"], e.value.response["resourceId"]) == ("domain", "absent")
    with pytest.raises(ca.exceptions.ResourceNotFoundException):
        ca.list_repositories_in_domain(domain="other", domainOwner="111122223333")
    with pytest.raises(ca.exceptions.ValidationException) as e:
        ca.list_repositories_in_domain(domain="acme", maxResults=1001)
    assert e.value.response["reason"] == "FIELD_VALIDATION_FAILED"
    # botocore checks minimums itself; without its checks the emulator
    # refuses them too (a prefix is a RepositoryName: two characters or more).
    unchecked = boto3.client(
        "codeartifact", endpoint_url=dependencies, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, parameter_validation=False))
    for bad in [dict(maxResults=0), dict(repositoryPrefix="a"), dict(administratorAccount="12345")]:
        with pytest.raises(unchecked.exceptions.ValidationException):
            unchecked.list_repositories_in_domain(domain="acme", **bad)
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ca.list_repositories_in_domain(domain="acme", repositoryPrefix="a")


def test_codeartifact_routes_are_the_models_operations():
    """Each CodeArtifact route is an operation of the model, at its method
    and URI, and has a conformance test here."""
    routes = re.findall(r'\("(\w+)", "(/v1/[^"]*)"\) => "(\w+)"', (ROOT / "emulator" / "src" / "codeartifact.rs").read_text())
    assert len(routes) >= 8
    model = botocore.session.get_session().get_service_model("codeartifact", "2018-09-22")
    tests = Path(__file__).read_text()
    for method, uri, name in routes:
        http = model.operation_model(name).http
        assert (http["method"], http["requestUri"]) == (method, uri), name
        snake = botocore.xform_name(name)
        assert f"ca.{snake}(" in tests or f'"{snake}"' in tests, f"{name} has no conformance test"


def test_demo_seed_declares_dependencies_groups_and_a_shared_version(emulator):
    admin(emulator, "PUT", "state", json.loads((ROOT / "emulator" / "seeds" / "demo.json").read_text()))
    ca = client("codeartifact", emulator)
    names = [r["name"] for r in ca.list_repositories_in_domain(domain="acme")["repositories"]]
    assert names == ["apps", "libs", "mirror", "releases", "snapshots"]
    mirror = ca.describe_repository(domain="acme", repository="mirror")["repository"]
    assert [u["repositoryName"] for u in mirror["upstreams"]] == ["releases"]
    shared = ca.list_package_versions(domain="acme", repository="mirror", format="pypi", package="data-pipeline")
    assert sorted(v["version"] for v in shared["versions"]) == ["0.1.0", "0.1.1"]
    groups = ca.list_associated_packages(domain="acme", packageGroup="/npm/acme/*")["packages"]
    assert sorted(p["package"] for p in groups) == ["core", "web"]
    deps = ca.list_package_version_dependencies(**ui(packageVersion="3.1.0"))["dependencies"]
    assert deps[0] == {"namespace": "acme", "package": "core", "dependencyType": "regular", "versionRequirement": "^1.4.0"}
    assert [d["dependencyType"] for d in deps] == ["regular", "dev"]
    core = ca.list_package_versions(domain="acme", repository="libs", format="npm", namespace="acme", package="core")["versions"]
    assert len(core) == 13
    maven = ca.list_package_version_dependencies(domain="acme", repository="libs", format="maven", namespace="com.acme",
                                                 package="payments-client", packageVersion="1.1.0")["dependencies"]
    assert {d["dependencyType"] for d in maven} == {"parent", "compile", "test"}


# ListPackageVersionAssets, DescribeRepository and the package groups
# (ListPackageGroups, ListAssociatedPackages, GetAssociatedPackageGroup). A
# seed of its own: the other seeds' listings are counted by the tests above.
def digests(content):
    return {"MD5": hashlib.md5(content).hexdigest(), "SHA-1": hashlib.sha1(content).hexdigest(),
            "SHA-256": hashlib.sha256(content).hexdigest(), "SHA-512": hashlib.sha512(content).hexdigest()}


CORE_TGZ = {"name": "package.tgz", "size": 48213, "hashes": digests(b"@acme/core 1.0.0")}
MANY_ASSETS = [{"name": f"firmware-part-{i:04}.bin", "size": 1_048_576 + i} for i in range(1200)]
GROUP_SEED = {
    "codeartifact": {"domains": {
        "acme": {
            "packageGroups": [
                {"pattern": "/npm/acme/*", "description": "Acme's npm scope", "contactInfo": "web-platform@acme.example",
                 "createdTime": "2025-06-01T00:00:00Z"},
                {"pattern": "/npm/acme/ui~"},
            ],
            "repositories": {
                "releases": {"description": "Release builds", "createdTime": "2025-01-01T00:00:00Z",
                             "upstreams": ["libs", "npm-store"], "packages": [
                    {"format": "npm", "namespace": "acme", "package": "core", "versions": [
                        {"version": "1.0.0", "assets": [CORE_TGZ]},
                        {"version": "0.9.0", "status": "Disposed", "assets": [{"name": "package.tgz", "size": 40000}]},
                        {"version": "0.8.0", "status": "Deleted", "assets": [{"name": "package.tgz", "size": 39000}]}]},
                    {"format": "npm", "namespace": "acme", "package": "cli", "versions": [{"version": "2.0.0"}]},
                    {"format": "npm", "namespace": "acme", "package": "ui-kit", "versions": [{"version": "3.0.0"}]},
                    {"format": "maven", "namespace": "com.acme", "package": "svc", "versions": [
                        {"version": "1.4.0", "assets": [{"name": "svc-1.4.0.jar", "size": 2_318_204}, {"name": "svc-1.4.0.pom", "size": 3_112}]}]},
                    {"format": "generic", "namespace": "acme", "package": "firmware-bundle", "versions": [
                        {"version": "2025.06", "assets": MANY_ASSETS}]},
                ]},
                "libs": {"packages": [
                    {"format": "npm", "namespace": "acme", "package": "core", "versions": [{"version": "1.1.0"}]},
                    {"format": "npm", "namespace": "other", "package": "x", "versions": [{"version": "0.1.0"}]},
                    {"format": "pypi", "package": "Requests_OAuthlib", "versions": [{"version": "2.0.0"}]},
                ]},
                "npm-store": {"externalConnections": ["public:npmjs"]},
            },
        },
        "other": {"owner": "444455556666", "repositories": {"vendor": {}}},
    }},
}


@pytest.fixture()
def groups(seeded):
    admin(seeded, "PUT", "state", GROUP_SEED)
    return seeded


def unchecked(url):
    """A client that leaves parameter validation to the emulator."""
    return boto3.client(
        "codeartifact", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, parameter_validation=False))


def core(**extra):
    return dict(domain="acme", repository="releases", format="npm", namespace="acme", package="core", **extra)


def firmware(**extra):
    return dict(domain="acme", repository="releases", format="generic", namespace="acme", package="firmware-bundle",
                packageVersion="2025.06", **extra)


def test_codeartifact_list_package_version_assets_answers_the_model(groups):
    ca = client("codeartifact", groups)
    bodies = raw_bodies(ca)
    out = ca.list_package_version_assets(**core(packageVersion="1.0.0"))
    assert (out["format"], out["namespace"], out["package"], out["version"]) == ("npm", "acme", "core", "1.0.0")
    assert out["versionRevision"] == ca.describe_package_version(**core(packageVersion="1.0.0"))["packageVersion"]["revision"]
    assert out["assets"] == [CORE_TGZ] and "nextToken" not in out
    maven = ca.list_package_version_assets(domain="acme", repository="releases", format="maven", namespace="com.acme",
                                           package="svc", packageVersion="1.4.0")["assets"]
    assert [(a["name"], a["size"]) for a in maven] == [("svc-1.4.0.jar", 2_318_204), ("svc-1.4.0.pom", 3_112)]
    # Seeded without hashes: the emulator's stand-ins, of the model's
    # algorithms and each digest's length, the same on every call.
    lengths = {"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128}
    assert all({k: len(v) for k, v in a["hashes"].items()} == lengths for a in maven)
    assert all(re.fullmatch("[0-9a-f]+", h) for a in maven for h in a["hashes"].values())
    assert ca.list_package_version_assets(domain="acme", repository="releases", format="maven", namespace="com.acme",
                                          package="svc", packageVersion="1.4.0")["assets"] == maven
    # Disposed: its assets are deleted (the guide's "Package version status").
    assert ca.list_package_version_assets(**core(packageVersion="0.9.0"))["assets"] == []
    listings = [b for b in bodies if "assets" in b]
    assert len(listings) == 4
    for body in listings:
        assert_in_shape(body, output_shape(ca, "ListPackageVersionAssets"))


def test_codeartifact_list_package_version_assets_pages(groups):
    ca = client("codeartifact", groups)
    assert ca.can_paginate("list_package_version_assets")
    pages = list(ca.get_paginator("list_package_version_assets").paginate(**firmware(), PaginationConfig={"PageSize": 1000}))
    assert [len(p["assets"]) for p in pages] == [1000, 200]
    assert [a["name"] for p in pages for a in p["assets"]] == [a["name"] for a in MANY_ASSETS]
    assert all(p["versionRevision"] == pages[0]["versionRevision"] for p in pages)
    # Without maxResults, the emulator's page of 50 (undocumented).
    default = list(ca.get_paginator("list_package_version_assets").paginate(**firmware()))
    assert len(default) == 24 and sum(len(p["assets"]) for p in default) == 1200
    with pytest.raises(ca.exceptions.ValidationException):
        ca.list_package_version_assets(**firmware(), nextToken="not-a-token")


def test_codeartifact_list_package_version_assets_errors(groups):
    ca = client("codeartifact", groups)
    for request, kind in [
        (core(packageVersion="9.9.9"), "package-version"),
        (core(packageVersion="0.8.0"), "package-version"),  # Deleted (undocumented: answered as missing)
        (dict(core(packageVersion="1.0.0"), package="absent"), "package"),
        (dict(core(packageVersion="1.0.0"), repository="absent"), "repository"),
        (dict(core(packageVersion="1.0.0"), domain="absent"), "domain"),
    ]:
        with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
            ca.list_package_version_assets(**request)
        assert e.value.response["resourceType"] == kind, request
    with pytest.raises(ca.exceptions.ValidationException) as e:
        ca.list_package_version_assets(**firmware(), maxResults=1001)
    assert e.value.response["reason"] == "FIELD_VALIDATION_FAILED"
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ca.list_package_version_assets(**core())
    raw = unchecked(groups)
    for bad in [firmware(maxResults=0), core(), dict(core(packageVersion="1.0.0"), format="jar")]:
        with pytest.raises(raw.exceptions.ValidationException):
            raw.list_package_version_assets(**bad)


def test_codeartifact_describe_repository_answers_the_model(groups):
    ca = client("codeartifact", groups)
    bodies = raw_bodies(ca)
    r = ca.describe_repository(domain="acme", repository="releases")["repository"]
    assert r == {
        "name": "releases", "administratorAccount": "111122223333", "domainName": "acme", "domainOwner": "111122223333",
        "arn": "arn:aws:codeartifact:us-east-1:111122223333:repository/acme/releases", "description": "Release builds",
        "upstreams": [{"repositoryName": "libs"}, {"repositoryName": "npm-store"}], "externalConnections": [],
        "createdTime": datetime(2025, 1, 1, tzinfo=timezone.utc)}
    store = ca.describe_repository(domain="acme", repository="npm-store")["repository"]
    assert store["upstreams"] == [] and "description" not in store
    assert store["externalConnections"] == [{"externalConnectionName": "public:npmjs", "packageFormat": "npm", "status": "Available"}]
    vendor = ca.describe_repository(domain="other", domainOwner="444455556666", repository="vendor")["repository"]
    assert (vendor["domainOwner"], vendor["arn"]) == ("444455556666", "arn:aws:codeartifact:us-east-1:444455556666:repository/other/vendor")
    # The same members as ListRepositoriesInDomain's summary, where both have them.
    summary = next(s for s in ca.list_repositories_in_domain(domain="acme")["repositories"] if s["name"] == "releases")
    assert summary == {k: v for k, v in r.items() if k in summary}
    for body in bodies[:3]:
        assert_in_shape(body, output_shape(ca, "DescribeRepository"))


def test_codeartifact_describe_repository_errors(groups):
    ca = client("codeartifact", groups)
    for request, kind in [
        (dict(domain="acme", repository="absent"), "repository"),
        (dict(domain="absent", repository="releases"), "domain"),
        (dict(domain="other", domainOwner="111122223333", repository="vendor"), "domain"),
    ]:
        with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
            ca.describe_repository(**request)
        assert (e.value.response["resourceType"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (kind, 404)
    with pytest.raises(ca.exceptions.ValidationException):
        ca.describe_repository(domain="acme", repository="not a name!")
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ca.describe_repository(domain="acme")
    with pytest.raises(ca.exceptions.ValidationException):
        unchecked(groups).describe_repository(domain="acme")


def associated(ca, group, **extra):
    return [(p["format"], p.get("namespace"), p["package"], p["associationType"])
            for page in ca.get_paginator("list_associated_packages").paginate(domain="acme", packageGroup=group, **extra)
            for p in page["packages"]]


def test_codeartifact_list_associated_packages_takes_the_most_specific_group(groups):
    ca = client("codeartifact", groups)
    bodies = raw_bodies(ca)
    # A package belongs to its most specific group only: ui-kit to the
    # child /npm/acme/ui~, not to /npm/acme/*; core counts once though two
    # repositories hold it (groups are the domain's).
    assert associated(ca, "/npm/acme/*") == [("npm", "acme", "cli", "STRONG"), ("npm", "acme", "core", "STRONG")]
    assert associated(ca, "/npm/acme/ui~") == [("npm", "acme", "ui-kit", "STRONG")]
    assert associated(ca, "/*") == [("generic", "acme", "firmware-bundle", "STRONG"), ("maven", "com.acme", "svc", "STRONG"),
                                    ("npm", "other", "x", "STRONG"), ("pypi", None, "requests-oauthlib", "STRONG")]
    # preview: what a group that does not exist would take from its parents.
    assert associated(ca, "/npm/*", preview=True) == [("npm", "other", "x", "STRONG")]
    assert associated(ca, "/npm/acme/c~", preview=True) == []  # a word boundary: neither cli nor core
    assert associated(ca, "/npm/acme/core$", preview=True) == [("npm", "acme", "core", "STRONG")]
    # PyPI names are matched normalised; a variation of the pattern is a weak match.
    assert associated(ca, "/pypi//requests-oauthlib$", preview=True) == [("pypi", None, "requests-oauthlib", "STRONG")]
    assert associated(ca, "/pypi//Requests_OAuthlib$", preview=True) == [("pypi", None, "requests-oauthlib", "WEAK")]
    # An existing group with preview answers as without.
    assert associated(ca, "/npm/acme/ui~", preview=True) == [("npm", "acme", "ui-kit", "STRONG")]
    assert len(bodies) == 9
    for body in bodies:
        assert_in_shape(body, output_shape(ca, "ListAssociatedPackages"))


def test_codeartifact_list_associated_packages_pages(groups):
    ca = client("codeartifact", groups)
    pages = list(ca.get_paginator("list_associated_packages").paginate(domain="acme", packageGroup="/*", PaginationConfig={"PageSize": 3}))
    assert [[p["package"] for p in page["packages"]] for page in pages] == [["firmware-bundle", "svc", "x"], ["requests-oauthlib"]]
    assert "nextToken" not in pages[-1]
    one = ca.list_associated_packages(domain="acme", packageGroup="/npm/acme/*", maxResults=1)
    assert [p["package"] for p in one["packages"]] == ["cli"]
    rest = ca.list_associated_packages(domain="acme", packageGroup="/npm/acme/*", maxResults=1, nextToken=one["nextToken"])
    assert [p["package"] for p in rest["packages"]] == ["core"] and "nextToken" not in rest


def test_codeartifact_list_associated_packages_errors(groups):
    ca = client("codeartifact", groups)
    with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
        ca.list_associated_packages(domain="acme", packageGroup="/npm/*")
    assert e.value.response["resourceId"] == "/npm/*" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
        ca.list_associated_packages(domain="absent", packageGroup="/*")
    assert e.value.response["resourceType"] == "domain"
    for bad in ["/npm/acme", "/npm/acme/ui-~", "/pypi/acme/*", "/jar/*", "npm/*"]:
        with pytest.raises(ca.exceptions.ValidationException):
            ca.list_associated_packages(domain="acme", packageGroup=bad, preview=True)
    with pytest.raises(ca.exceptions.ValidationException):
        ca.list_associated_packages(domain="acme", packageGroup="/*", maxResults=1001)
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ca.list_associated_packages(domain="acme")
    raw = unchecked(groups)
    for bad in [dict(packageGroup="/*", maxResults=0), dict(packageGroup="/"), dict()]:
        with pytest.raises(raw.exceptions.ValidationException):
            raw.list_associated_packages(domain="acme", **bad)


def test_codeartifact_get_associated_package_group_answers_the_model(groups):
    ca = client("codeartifact", groups)
    bodies = raw_bodies(ca)
    out = ca.get_associated_package_group(domain="acme", format="npm", namespace="acme", package="ui-kit")
    group = out["packageGroup"]
    assert out["associationType"] == "STRONG"
    assert (group["pattern"], group["domainName"], group["domainOwner"]) == ("/npm/acme/ui~", "acme", "111122223333")
    assert group["arn"] == "arn:aws:codeartifact:us-east-1:111122223333:package-group/acme/npm/acme/ui~"
    assert group["parent"] == {"pattern": "/npm/acme/*", "arn": "arn:aws:codeartifact:us-east-1:111122223333:package-group/acme/npm/acme/%2a"}
    assert group["originConfiguration"]["restrictions"]["PUBLISH"]["mode"] == "INHERIT"
    acme = ca.get_associated_package_group(domain="acme", format="npm", namespace="acme", package="core")["packageGroup"]
    assert (acme["pattern"], acme["description"], acme["contactInfo"]) == ("/npm/acme/*", "Acme's npm scope", "web-platform@acme.example")
    assert acme["createdTime"] == datetime(2025, 6, 1, tzinfo=timezone.utc) and acme["parent"]["pattern"] == "/*"
    # Every domain has the root group /*: what no other group matches.
    root = ca.get_associated_package_group(domain="acme", format="npm", namespace="other", package="x")
    assert (root["packageGroup"]["pattern"], root["associationType"]) == ("/*", "STRONG")
    assert "parent" not in root["packageGroup"]
    assert root["packageGroup"]["arn"] == "arn:aws:codeartifact:us-east-1:111122223333:package-group/acme/%2a"
    assert {r["effectiveMode"] for r in root["packageGroup"]["originConfiguration"]["restrictions"].values()} == {"ALLOW"}
    # The package need not exist; a variation of a pattern is a weak match.
    weak = ca.get_associated_package_group(domain="acme", format="npm", namespace="acme", package="UI_Kit")
    assert (weak["packageGroup"]["pattern"], weak["associationType"]) == ("/npm/acme/ui~", "WEAK")
    assert ca.get_associated_package_group(domain="acme", format="pypi", package="Requests.OAuthlib")["packageGroup"]["pattern"] == "/*"
    assert ca.get_associated_package_group(domain="other", format="npm", package="x")["packageGroup"]["domainOwner"] == "444455556666"
    assert len(bodies) == 6
    for body in bodies:
        assert_in_shape(body, output_shape(ca, "GetAssociatedPackageGroup"))


def test_codeartifact_get_associated_package_group_errors(groups):
    ca = client("codeartifact", groups)
    with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
        ca.get_associated_package_group(domain="absent", format="npm", package="x")
    assert e.value.response["resourceType"] == "domain"
    with pytest.raises(ca.exceptions.ResourceNotFoundException):
        ca.get_associated_package_group(domain="other", domainOwner="111122223333", format="npm", package="x")
    with pytest.raises(botocore.exceptions.ParamValidationError):
        ca.get_associated_package_group(domain="acme", package="x")
    raw = unchecked(groups)
    for bad in [dict(package="x"), dict(format="npm"), dict(format="jar", package="x"), dict(format="npm", package="a/b")]:
        with pytest.raises(raw.exceptions.ValidationException):
            raw.get_associated_package_group(domain="acme", **bad)


def test_codeartifact_list_package_groups_answers_the_model_and_pages(groups):
    ca = client("codeartifact", groups)
    bodies = raw_bodies(ca)
    listed = ca.list_package_groups(domain="acme")["packageGroups"]
    assert [(g["pattern"], g.get("parent", {}).get("pattern")) for g in listed] == [
        ("/*", None), ("/npm/acme/*", "/*"), ("/npm/acme/ui~", "/npm/acme/*")]
    # Not seeded, the root was created with the domain: its oldest repository's time.
    assert listed[0]["createdTime"] == datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert listed[1]["description"] == "Acme's npm scope"
    described = ca.get_associated_package_group(domain="acme", format="npm", namespace="acme", package="cli")["packageGroup"]
    assert listed[1] == described
    assert [g["pattern"] for g in ca.list_package_groups(domain="acme", prefix="/npm/acme/u")["packageGroups"]] == ["/npm/acme/ui~"]
    assert ca.list_package_groups(domain="acme", prefix="/maven")["packageGroups"] == []
    assert [g["pattern"] for g in ca.list_package_groups(domain="other", domainOwner="444455556666")["packageGroups"]] == ["/*"]
    pages = list(ca.get_paginator("list_package_groups").paginate(domain="acme", PaginationConfig={"PageSize": 2}))
    assert [[g["pattern"] for g in p["packageGroups"]] for p in pages] == [["/*", "/npm/acme/*"], ["/npm/acme/ui~"]]
    listings = [b for b in bodies if "packageGroups" in b]
    assert len(listings) == 6
    for body in listings:
        assert_in_shape(body, output_shape(ca, "ListPackageGroups"))


def test_codeartifact_list_package_groups_errors(groups):
    ca = client("codeartifact", groups)
    with pytest.raises(ca.exceptions.ResourceNotFoundException) as e:
        ca.list_package_groups(domain="absent")
    assert (e.value.response["resourceType"], e.value.response["resourceId"]) == ("domain", "absent")
    with pytest.raises(ca.exceptions.ValidationException):
        ca.list_package_groups(domain="acme", maxResults=1001)
    with pytest.raises(ca.exceptions.ValidationException):
        ca.list_package_groups(domain="acme", nextToken="not-a-token")
    with pytest.raises(unchecked(groups).exceptions.ValidationException):
        unchecked(groups).list_package_groups(domain="acme", maxResults=0)


def test_new_codeartifact_operations_take_injected_faults(groups):
    calls = {
        "ListPackageVersionAssets": lambda ca: ca.list_package_version_assets(**core(packageVersion="1.0.0")),
        "DescribeRepository": lambda ca: ca.describe_repository(domain="acme", repository="releases"),
        "ListAssociatedPackages": lambda ca: ca.list_associated_packages(domain="acme", packageGroup="/*"),
        "GetAssociatedPackageGroup": lambda ca: ca.get_associated_package_group(domain="acme", format="npm", package="x"),
        "ListPackageGroups": lambda ca: ca.list_package_groups(domain="acme"),
    }
    ca = client("codeartifact", groups)
    admin(groups, "PUT", "faults", {f"codeartifact:{op}": {"errorRate": 1.0} for op in calls})
    for call in calls.values():
        with pytest.raises(ca.exceptions.InternalServerException):
            call(ca)
    admin(groups, "PUT", "faults", {f"codeartifact:{op}": {"throttle": {"ratePerSecond": 0.001, "burst": 1, "retryAfterSeconds": 3}}
                                    for op in calls})
    for call in calls.values():
        call(ca)
        with pytest.raises(ca.exceptions.ThrottlingException) as e:
            call(ca)
        assert e.value.response["retryAfterSeconds"] == 3
    logged = [(c["operation"], c["status"]) for c in admin(groups, "GET", "calls")]
    assert logged == [(op, 500) for op in calls] + [(op, status) for op in calls for status in (200, 429)]


def test_demo_seed_declares_assets_and_package_groups(emulator):
    seed = json.loads((ROOT / "emulator" / "seeds" / "demo.json").read_text())
    admin(emulator, "PUT", "state", seed)
    ca = client("codeartifact", emulator)
    for name, repo in seed["codeartifact"]["domains"]["acme"]["repositories"].items():
        for p in repo.get("packages", []):
            assert all(v.get("assets") for v in p["versions"]), (name, p["package"])
    web = ca.list_package_version_assets(domain="acme", repository="releases", format="npm", namespace="acme",
                                         package="web", packageVersion="1.0.0")["assets"]
    assert [a["name"] for a in web] == ["package.tgz"] and 1_000 <= web[0]["size"] <= 10_000_000
    svc = ca.list_package_version_assets(domain="acme", repository="snapshots", format="maven", namespace="com.acme",
                                         package="billing-svc", packageVersion="1.0.0-SNAPSHOT")["assets"]
    assert [a["name"].rsplit(".", 1)[1] for a in svc] == ["jar", "pom"]
    patterns = [g["pattern"] for g in ca.list_package_groups(domain="acme")["packageGroups"]]
    assert patterns == ["/*", "/maven/com.acme~", "/npm/acme/*", "/npm/acme/ui~", "/pypi//acme~"]
    assert [p["package"] for p in ca.list_associated_packages(domain="acme", packageGroup="/npm/acme/ui~")["packages"]] == ["ui", "ui-kit"]
    assert [p["package"] for p in ca.list_associated_packages(domain="acme", packageGroup="/npm/acme/*")["packages"]] == ["core", "web"]
    assert [p["package"] for p in ca.list_associated_packages(domain="acme", packageGroup="/pypi//acme~")["packages"]] == [
        "acme-models", "acme-reports"]
    assert ca.get_associated_package_group(domain="acme", format="npm", package="acme-cli")["packageGroup"]["pattern"] == "/*"
