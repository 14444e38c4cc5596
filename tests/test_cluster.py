"""Dask distributed: a real scheduler and two workers as separate processes on loopback, with mutual TLS made
here. District runs computed on the workers, signed and landed by the client; EL07 by hash buckets."""
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from audit_lib import PROJECT_ROOT, cluster
from audit_lib.errors import AuditError
from audit_lib.provenance import keys
from audit_lib.provenance.verify import verify
from audit_lib.synth import make_package
from audit_lib.synth.city import make_city

DASK = str(Path(sys.executable).parent / "dask")


def _cert(folder: Path, name: str, issuer=None, ca: bool = False):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(issuer[0].subject if issuer else subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
         .not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                     x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                        critical=False))
    cert = b.sign(issuer[1] if issuer else key, hashes.SHA256())
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    return cert, key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tls(folder: Path, who: str = "node") -> list[str]:
    return ["--tls-ca-file", str(folder / "ca.pem"), "--tls-cert", str(folder / f"{who}.pem"),
            "--tls-key", str(folder / f"{who}.key")]


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("cluster")
    certs = base / "certs"
    certs.mkdir()
    ca = _cert(certs, "ca", ca=True)
    _cert(certs, "node", issuer=ca)
    _cert(certs, "client", issuer=ca)
    other = _cert(certs, "otherca", ca=True)
    _cert(certs, "stranger", issuer=other)
    port = _free_port()
    address = f"tls://127.0.0.1:{port}"
    env = dict(os.environ, AUDIT_LANG="en")
    logs = base / "logs"
    logs.mkdir()
    procs = {}

    def start(name, args):
        out = open(logs / f"{name}.log", "wb")
        procs[name] = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, env=env,
                                       start_new_session=True)

    start("scheduler", [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--protocol", "tls",
                        "--no-dashboard", *_tls(certs)])
    time.sleep(1.5)
    for w in ("w1", "w2"):
        start(w, [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", w,
                  "--host", "127.0.0.1", *_tls(certs)])
    # wait for both workers
    deadline = time.time() + 60
    from distributed import Client

    sec = cluster.security(*[str(certs / f) for f in ("ca.pem", "client.pem", "client.key")])
    with Client(address, security=sec, timeout="30s") as c:
        while len(c.scheduler_info()["workers"]) < 2:
            assert time.time() < deadline, (logs / "w1.log").read_text()
            time.sleep(0.5)
    yield {"address": address, "certs": certs, "procs": procs, "base": base, "logs": logs}
    for p in procs.values():
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


@pytest.fixture(scope="module")
def districts(tls_cluster, tmp_path_factory):
    base = tmp_path_factory.mktemp("districts")
    mp = pytest.MonkeyPatch()
    mp.setenv("AUDIT_CONFIG_DIR", str(base / "cfg"))
    key, _ = keys.keygen("审计组壬")
    pkgs = []
    for code, seed in (("120104", 71), ("120105", 72), ("120106", 73)):
        pkgs.append(make_package(base / code, district_code=code, lines=1200, seed=seed) and base / code)
    yield {"key": key, "pkgs": pkgs, "base": base}
    mp.undo()


def _batch(tls_cluster, districts, archive: Path, who: str = "client") -> subprocess.Popen:
    env = dict(os.environ, AUDIT_CONFIG_DIR=str(districts["base"] / "cfg"), AUDIT_LANG="en")
    return subprocess.Popen([sys.executable, "-m", "audit_lib.cli", "batch", *map(str, districts["pkgs"]),
                             "--scheduler", tls_cluster["address"], *_tls(tls_cluster["certs"], who),
                             "--archive", str(archive), "--key", str(districts["key"]), "--timeout", "300"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=PROJECT_ROOT)


def _landed(archive: Path) -> dict[str, list[Path]]:
    return {d.name: sorted(r for r in d.iterdir()) for d in sorted((archive / "2023").iterdir())}


def test_el07_by_hash_buckets_on_the_cluster_gives_the_same_bytes(tls_cluster, tmp_path):
    from audit_lib import findings
    from audit_lib.checks.staged import using_executor
    from audit_lib.pipeline import check_region

    doc = make_city(tmp_path / "city", n=3, lines=1500, seed=51, year=2023)
    dirs = [tmp_path / "city" / c for c in doc["districts"]]
    _, _, here = check_region(dirs)
    certs = tls_cluster["certs"]
    with cluster.client(tls_cluster["address"], *[str(certs / f) for f in ("ca.pem", "client.pem", "client.key")]) \
            as c, using_executor(cluster.BucketExecutor(c, 7)):
        _, _, there = check_region(dirs, stage_dir=tmp_path / "shared")
    findings.write(here, tmp_path / "a.json")
    findings.write(there, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    el07 = next(x for x in there["checks"] if x["id"] == "EL07")
    assert el07["records"] == sorted(doc["checks"]["EL07"]) and el07["count"] > 0


def test_a_client_with_a_certificate_the_cluster_does_not_trust_is_refused(tls_cluster):
    certs = tls_cluster["certs"]
    with pytest.raises(AuditError, match="cannot connect to the cluster"):
        with cluster.client(tls_cluster["address"], str(certs / "ca.pem"), str(certs / "stranger.pem"),
                            str(certs / "stranger.key"), timeout="5s"):
            pass
    with pytest.raises(AuditError, match="go together"):
        cluster.security(str(certs / "ca.pem"), None, None)


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d.name))
    return out


def test_a_batch_of_three_with_a_worker_killed_in_the_middle_lands_each_run_once_signed_here(
        tls_cluster, districts, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(districts["base"] / "cfg"))
    archive = tmp_path / "arch"
    p = _batch(tls_cluster, districts, archive)
    victim = None
    deadline = time.time() + 120
    while victim is None and time.time() < deadline:        # a worker busy computing a district
        for w in ("w1", "w2"):
            if _children(tls_cluster["procs"][w].pid):
                victim = w
                break
        time.sleep(0.2)
    assert victim, "no worker ever started a run"
    kids = _children(tls_cluster["procs"][victim].pid)
    time.sleep(1.0)
    os.kill(tls_cluster["procs"][victim].pid, signal.SIGKILL)
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, out + err
    runs = _landed(archive)
    assert sorted(runs) == ["120104", "120105", "120106"] and all(len(v) == 1 for v in runs.values()), runs
    for (r,) in runs.values():
        problems, st = verify(r)
        assert problems == [] and st["predicate"]["signer"]["name"] == "审计组壬"       # signed here, by its name
        # computed on a worker, from the package on the shared path
        assert st["predicate"]["package"]["path"] in {str(x.resolve()) for x in districts["pkgs"]}
    assert "3 done, 0 failed" in out
    # the killed worker's run did not go on computing on its own
    time.sleep(2)
    for k in kids:
        assert not Path(f"/proc/{k}").exists() or "\nState:\tZ" in Path(f"/proc/{k}/status").read_text()
