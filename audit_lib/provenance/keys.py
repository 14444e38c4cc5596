"""Ed25519 signing keys and the trusted set.

- A key id is the lower-case hex sha256 of the key's DER SubjectPublicKeyInfo bytes (outputs.md).
- Private keys live in ``<config>/keys/<keyid>.pem`` (mode 0600, optionally passphrase-encrypted), never in
  the archive or the repository. File names carry no meaning: a key is known by its id.
- The trusted set is a folder of PEM public keys (``<config>/trusted``, mode 0700). Each file may carry a
  ``Signer: NAME`` line before the PEM block (RFC 7468 allows text there): that label is the name the trusted
  set vouches for, and the only name a run is signed and verified under.
- The DEMO key lives apart (``<config>/demo``); it is never in the trusted set, signs only synthetic packages,
  and ``audit verify`` accepts it only when asked to check a demo run.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import AuditError
from ..i18n import tr

DEMO = "DEMO"
PASSPHRASE_ENV = "AUDIT_KEY_PASSPHRASE"


def config_dir() -> Path:
    base = os.environ.get("AUDIT_CONFIG_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "audit-workbench"


def keys_dir() -> Path:
    return config_dir() / "keys"


def trusted_dir() -> Path:
    return config_dir() / "trusted"


def demo_dir() -> Path:
    return config_dir() / "demo"


def key_id(public: Ed25519PublicKey) -> str:
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_pem(public: Ed25519PublicKey, signer: str | None = None) -> bytes:
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if signer:
        label = " ".join(str(signer).split())
        return f"Signer: {label}\n".encode("utf-8") + pem
    return pem


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


# ---------------------------------------------------------------- public keys and the trusted set

def load_public(pem: bytes) -> Ed25519PublicKey:
    start = pem.find(b"-----BEGIN")
    try:
        key = serialization.load_pem_public_key(pem[start:] if start >= 0 else pem)
    except (ValueError, TypeError) as e:
        raise AuditError(tr(f"不是可读的公钥（{e}）",
                            f"not a readable public key ({e})")) from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditError(tr("不是 Ed25519 公钥",
                            "not an Ed25519 public key"))
    return key


def pem_label(pem: bytes) -> str | None:
    """The ``Signer:`` label written before a PEM block, if any."""
    head = pem[: max(0, pem.find(b"-----BEGIN"))].decode("utf-8", "replace")
    for line in head.splitlines():
        if line.lower().startswith("signer:"):
            return line.split(":", 1)[1].strip() or None
    return None


@dataclass(frozen=True)
class Trusted:
    keyid: str
    signer: str | None          # the name the trusted set vouches for (None: an unlabelled key)
    path: Path


def _check_folder(folder: Path) -> None:
    """A trusted set that others can write to vouches for nothing."""
    st = folder.stat()
    if st.st_mode & 0o022:
        raise AuditError(tr(f"受信任公钥集 {folder} 可被同组或其他用户写入（权限 {stat.S_IMODE(st.st_mode):o}）；请运行：chmod 700 {folder}",
                            f"the trusted set {folder} is writable by group or others (mode "
                            f"{stat.S_IMODE(st.st_mode):o}); run: chmod 700 {folder}"))
    for p in folder.glob("*.pem"):
        if p.stat().st_mode & 0o022:
            raise AuditError(tr(f"受信任公钥集中的 {p} 可被同组或其他用户写入；请运行：chmod 644 {p}",
                                f"{p} in the trusted set is writable by group or others; run: chmod 644 {p}"))


def trusted_keys(folder: str | Path | None = None) -> dict[str, Trusted]:
    """The trusted set: key id -> Trusted. The folder is checked first (not writable by others)."""
    folder = Path(folder) if folder else trusted_dir()
    out: dict[str, Trusted] = {}
    if not folder.is_dir():
        return out
    _check_folder(folder)
    for p in sorted(folder.glob("*.pem")):
        try:
            pem = p.read_bytes()
            kid = key_id(load_public(pem))
        except (AuditError, OSError):
            continue
        out[kid] = Trusted(kid, pem_label(pem), p)
    return out


def trusted_ids(folder: str | Path | None = None) -> dict[str, Path]:
    return {k: t.path for k, t in trusted_keys(folder).items()}


def add_trusted(pem: bytes, signer: str, folder: Path | None = None) -> Path:
    """Add a public key to the trusted set under the name it vouches for."""
    if not signer or not str(signer).strip():
        raise AuditError(tr("受信任的公钥需要签名人姓名（--signer 姓名）",
                            "a trusted key needs the signer's name (--signer NAME)"))
    public = load_public(pem)
    kid = key_id(public)
    if demo_key_id() == kid:
        raise AuditError(tr("演示密钥永远不被信任用于正式审计",
                            "the DEMO key is never trusted for real audits"))
    folder = folder or trusted_dir()
    _private_folder(folder)
    out = folder / f"{kid}.pem"
    tmp = folder / f".{kid}.pem.tmp"
    tmp.write_bytes(public_pem(public, signer))
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    return out


def remove_trusted(keyid: str, folder: Path | None = None) -> Path:
    folder = folder or trusted_dir()
    matches = [t for k, t in trusted_keys(folder).items() if k.startswith(keyid.lower())] if len(keyid) >= 8 else []
    if len(matches) != 1:
        raise AuditError(tr(f"没有唯一的受信任密钥编号为 {keyid!r}（请至少给出 8 位十六进制字符；`audit trust list` 可列出）",
                            f"no single trusted key with id {keyid!r} (give at least 8 hex characters; "
                            f"`audit trust list` shows them)"))
    matches[0].path.unlink()
    return matches[0].path


# ---------------------------------------------------------------- private keys

@dataclass(frozen=True)
class SigningKey:
    key: Ed25519PrivateKey
    keyid: str
    signer: str               # the name the trusted set (or the DEMO set) vouches for
    demo: bool
    path: Path


def _passphrase(prompt: str, confirm: bool = False) -> bytes | None:
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env.encode("utf-8")
    if not sys.stdin or not sys.stdin.isatty():
        return None
    p = getpass.getpass(prompt)
    if confirm and getpass.getpass("再次输入口令 / passphrase again: ") != p:
        raise AuditError(tr("两次输入的口令不一致",
                            "the two passphrases differ"))
    return p.encode("utf-8") if p else None


def keygen(signer: str, trust: bool = True, overwrite: bool = False, passphrase: bool = False,
           folder: Path | None = None) -> tuple[Path, str]:
    """Make an Ed25519 key for ``signer`` (mode 0600, optionally passphrase-encrypted) and add its public
    key to the trusted set under that name. Returns (private key path, key id)."""
    signer = " ".join(str(signer).split())
    if not signer:
        raise AuditError(tr("--signer 需要姓名",
                            "--signer needs a name"))
    if signer.upper() == DEMO and folder is None:
        raise AuditError(tr("DEMO 这个名字保留给演示密钥",
                            "the name DEMO is reserved for the demo key"))
    folder = folder or keys_dir()
    if not overwrite and any(k.signer == signer for k in personal_keys(folder)):
        raise AuditError(tr(f"签名人“{signer}”已有密钥（`audit trust list`）；如需再生成一个，请加 --force",
                            f"a key for signer '{signer}' exists already (`audit trust list`); pass --force to make "
                            f"another"))
    _private_folder(folder)
    key = Ed25519PrivateKey.generate()
    enc = serialization.NoEncryption()
    if passphrase:
        pw = _passphrase("新密钥的口令 / passphrase for the new key: ", confirm=True)
        if not pw:
            raise AuditError(tr(f"需要口令：请在提示处输入，或设置 {PASSPHRASE_ENV}",
                                f"a passphrase is needed: type it at the prompt or set {PASSPHRASE_ENV}"))
        enc = serialization.BestAvailableEncryption(pw)
    kid = key_id(key.public_key())
    path = folder / f"{kid}.pem"
    _write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))
    (folder / f"{kid}.json").write_text(json.dumps({"signer": signer, "keyid": kid, "encrypted": passphrase},
                                                   ensure_ascii=False) + "\n", encoding="utf-8")
    if trust:
        add_trusted(public_pem(key.public_key()), signer)
    return path, kid


def _label_of(path: Path) -> str | None:
    meta = path.with_suffix(".json")
    try:
        return json.loads(meta.read_text(encoding="utf-8")).get("signer")
    except (OSError, ValueError, AttributeError):
        return None


@dataclass(frozen=True)
class KeyFile:
    path: Path
    keyid: str
    signer: str | None


def personal_keys(folder: Path | None = None) -> list[KeyFile]:
    """The private keys in the keys folder (by id; the DEMO key is kept elsewhere)."""
    folder = folder or keys_dir()
    out = []
    if folder.is_dir():
        for p in sorted(folder.glob("*.pem")):
            stem = p.stem.lower()
            if len(stem) == 64 and all(c in "0123456789abcdef" for c in stem):
                out.append(KeyFile(p, stem, _label_of(p)))
    return out


def load_private(path: str | Path) -> Ed25519PrivateKey:
    path = Path(path)
    if not path.is_file():
        raise AuditError(tr(f"找不到签名密钥：{path}（用 `audit keygen --signer 姓名` 生成）",
                            f"signing key not found: {path} (make one with `audit keygen --signer 姓名`)"))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AuditError(tr(f"签名密钥 {path} 可被其他用户读取（权限 {mode:o}）；请运行：chmod 600 {path}",
                            f"signing key {path} is readable by others (mode {mode:o}); run: chmod 600 {path}"))
    data = path.read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:            # encrypted
        pw = _passphrase(f"密钥口令 / passphrase for {path.name}: ")
        if pw is None:
            raise AuditError(tr(f"{path} 有口令保护：请在提示处输入口令，或设置 {PASSPHRASE_ENV}",
                                f"{path} is passphrase-protected: type the passphrase at the prompt or set "
                                f"{PASSPHRASE_ENV}")) from None
        try:
            key = serialization.load_pem_private_key(data, password=pw)
        except ValueError:
            raise AuditError(tr(f"{path}：口令错误",
                                f"{path}: wrong passphrase")) from None
    except ValueError as e:
        raise AuditError(tr(f"{path}：不是可读的私钥（{e}）",
                            f"{path}: not a readable private key ({e})")) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(tr(f"{path}：不是 Ed25519 密钥",
                            f"{path}: not an Ed25519 key"))
    return key


def select_key(spec: str | None = None, trusted: str | Path | None = None) -> Path:
    """The private key to sign with: ``spec`` (a key file, or a key id or its first 8+ hex characters), else
    ``AUDIT_KEY``, else the one personal key there is. Several keys and no choice, or none: a clear error."""
    spec = spec or os.environ.get("AUDIT_KEY")
    mine = personal_keys()
    if spec:
        p = Path(spec).expanduser()
        if p.is_file():
            return p
        hits = [k for k in mine if len(spec) >= 8 and k.keyid.startswith(spec.lower())]
        if len(hits) == 1:
            return hits[0].path
        raise AuditError(tr(f"--key {spec}：既没有这个密钥文件，{keys_dir()} 中也没有唯一编号与之相符的密钥" + _listing(mine),
        f"--key {spec}: no key file and no single key with that id in {keys_dir()}"
                         + _listing(mine)))
    if len(mine) == 1:
        return mine[0].path
    if not mine:
        raise AuditError(tr("没有签名密钥：请用 `audit keygen --signer 姓名` 生成（演示密钥只签名模拟的演示数据包）",
                            "no signing key: make one with `audit keygen --signer 姓名` (the DEMO key signs only the "
                            "synthetic demo packages)"))
    raise AuditError(tr("有多个签名密钥：请用 --key 密钥编号 选择一个" + _listing(mine),
        "several signing keys: choose one with --key KEYID" + _listing(mine)))


def _listing(mine: list[KeyFile]) -> str:
    return "".join(f"\n  {k.keyid[:16]}  {k.signer or '(no name)'}" for k in mine)


def signing_key(path: str | Path, trusted: str | Path | None = None) -> SigningKey:
    """A private key with the name the trusted set vouches for (or DEMO, if it is the demo key). A key the
    trusted set does not hold, or holds without a name, signs nothing."""
    path = Path(path)
    key = load_private(path)
    kid = key_id(key.public_key())
    if kid == demo_key_id():
        return SigningKey(key, kid, DEMO, True, path)
    t = trusted_keys(trusted).get(kid)
    if t is None:
        raise AuditError(tr(f"密钥 {kid[:16]}…（{path}）不在受信任公钥集 {trusted or trusted_dir()} 中：请用 `audit trust add 公钥文件 --signer 姓名` 加入其公钥",
                            f"key {kid[:16]}… ({path}) is not in the trusted set {trusted or trusted_dir()}: "
                            f"add its public key with `audit trust add PEM --signer 姓名`"))
    if not t.signer:
        raise AuditError(tr(f"受信任公钥集中的密钥 {kid[:16]}… 没有签名人姓名（{t.path}）：请用 `audit trust add 公钥文件 --signer 姓名` 重新加入",
                            f"the trusted set holds key {kid[:16]}… without a signer name ({t.path}): add it again "
                            f"with `audit trust add PEM --signer 姓名`"))
    return SigningKey(key, kid, t.signer, False, path)


# ---------------------------------------------------------------- the DEMO key

def demo_key() -> Path:
    """The local demo key, made on first use; kept apart from the personal keys and the trusted set."""
    folder = demo_dir()
    path = folder / "DEMO.pem"
    if not path.exists():
        _private_folder(folder)
        key = Ed25519PrivateKey.generate()
        _write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        (folder / "DEMO.pub.pem").write_bytes(public_pem(key.public_key(), DEMO))
    return path


def demo_key_id() -> str | None:
    p = demo_dir() / "DEMO.pub.pem"
    try:
        return key_id(load_public(p.read_bytes()))
    except (OSError, AuditError):
        return None
