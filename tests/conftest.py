"""Shared fixtures: a small synthetic bilingual corpus, prepared once per session, and helpers
to run the scripts as a user would (subprocess, exit codes, stderr)."""
import gzip
import http.server
import io
import json
import os
import random
import socket
import subprocess
import sys
import threading
import urllib.parse

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import torch  # noqa: E402

# Without a GPU the Triton kernels run in Triton's interpreter; it must be chosen before
# kernels.py is imported (triton.jit reads it when it decorates).
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import data  # noqa: E402
from scalex import prepare

EN_WORDS = ("the of and to in is was for on that with as by at from his her they have this are "
            "river mountain city people language learning model data scale train value number "
            "history between under water light small large early later house world story").split()
ZH_CHARS = list("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持音跑投断检")


def make_corpus(dirpath, n_en=400, n_zh=200, seed=0):
    """en.jsonl and zh.jsonl.gz of generated documents: English word salad and Chinese
    character salad, with digits and ASCII in both so some tokens are shared."""
    rng = random.Random(seed)
    os.makedirs(dirpath, exist_ok=True)
    def en_doc(i):
        sents = [" ".join(rng.choice(EN_WORDS) for _ in range(rng.randint(5, 14))).capitalize() + "." for _ in range(rng.randint(3, 10))]
        return f"Doc {i}. " + " ".join(sents)
    def zh_doc(i):
        sents = ["".join(rng.choice(ZH_CHARS) for _ in range(rng.randint(6, 20))) + rng.choice("，。！？") for _ in range(rng.randint(3, 10))]
        return f"第{i}号 " + "".join(sents) + f" data {rng.randint(0, 999)}"
    with open(os.path.join(dirpath, "en.jsonl"), "w") as f:
        for i in range(n_en):
            f.write(json.dumps({"text": en_doc(i)}) + "\n")
    with gzip.open(os.path.join(dirpath, "zh.jsonl.gz"), "wt") as f:
        for i in range(n_zh):
            f.write(json.dumps({"text": zh_doc(i)}, ensure_ascii=False) + "\n")
    return dirpath


def data_config(corpus, data_dir, **kw):
    cfg = dict(prepare.DEFAULTS)
    cfg.update(data_dir=str(data_dir), local_dir=str(corpus), max_tokens={"en": 20_000, "zh": 8_000},
               val_tokens=1_000, test_tokens={"en": 1_000, "zh": 1_000}, vocab_size=320, tokenizer_sample_bytes=50_000,
               shuffle_block=50, shard_tokens=3000, workers=1)
    cfg.update(kw)
    return cfg


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return make_corpus(str(tmp_path_factory.mktemp("corpus")))


@pytest.fixture(scope="session")
def prepared(corpus, tmp_path_factory):
    """A prepared data dir (and its manifest) shared by the tests that only read it."""
    d = tmp_path_factory.mktemp("data") / "tiny"
    m = prepare.prepare(data_config(corpus, d), log=lambda *a: None)
    return str(d), m


def run(script, *args, cwd=ROOT, env=None, timeout=300):
    """Run a script of the project as a user would; returns CompletedProcess."""
    e = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    e.update(env or {})
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *map(str, args)], cwd=cwd, env=e,
                          capture_output=True, text=True, timeout=timeout)


def train_in(home, config="run.py"):
    """Train a config from inside `home`, as a user in that folder would (relative paths)."""
    import train
    here = os.getcwd()
    os.chdir(home)
    try:
        assert train.main([config]) == 0
    finally:
        os.chdir(here)


def write_config(path, text):
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def tiny_run_config(tmp_path, data_dir, extra=""):
    """A train config for a few-second CPU run on the prepared fixture data."""
    return write_config(tmp_path / "run.py", f"""
data_dir = {str(data_dir)!r}
out_dir = {str(tmp_path / 'runs')!r}
run_name = "t"
budget = {{"en": 16_000, "zh": 6_000}}
stages = [{{"name": "hrl", "lr": "constant", "tokens": {{"en": 2048}}}},
          {{"name": "mix", "lr": "cosine", "tokens": {{"en": 1024, "zh": 1024}}}}]
model_args = {{"d_model": 32, "n_head": 2, "n_kv_head": 2}}
block_size = 32
batch_size = 4
warmup_steps = 3
log_interval = 1
ckpt_interval = 10
eval_tokens = 500
{extra}
""")


# ----------------------------------------------------------------------------- a local Hub
class HubHandler(http.server.BaseHTTPRequestHandler):
    """The Hub where it matters, on 127.0.0.1: a non-recursive tree API answered in pages of
    `page_size` (Link: rel="next"), and resolve/ that redirects to a second server (the CDN, on
    another port) which serves HTTP ranges and refuses any request that carries an
    Authorization header, as a CDN's signed URL does. `private` repos answer 401 without the
    token `token`. Faults: `fail_next` requests answer 503; `drop_next` responses send only
    part of their body and close the connection. Counts the body bytes it sent."""
    files, sent, fail_next, drop_next = {}, [0], [0], [0]
    page_size, private, token, auth_seen, cdn_port = [2], set(), "hf_secret", [], [0]

    def log_message(self, *a):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        auth = self.headers.get("Authorization")
        if self.server.server_address[1] == self.cdn_port[0]:
            if auth:  # the token must never leave the Hub
                return self._send(400, b"Authorization header not allowed here", {})
            return self._serve_file(urllib.parse.unquote(url.path[len("/cdn/"):]))
        self.auth_seen.append(auth)
        if self.fail_next[0] > 0:
            self.fail_next[0] -= 1
            return self._send(503, b"busy", {})
        for prefix in ("/api/datasets/", "/datasets/"):
            if url.path.startswith(prefix):
                repo = "/".join(url.path[len(prefix):].split("/")[:2])
                if repo in self.private and auth != f"Bearer {self.token}":
                    return self._send(401, b'{"error": "Invalid credentials"}', {"X-Error-Code": "RepoNotFound"})
        if url.path.startswith("/api/datasets/"):
            repo, _, rest = url.path[len("/api/datasets/"):].partition("/tree/main")
            folder = urllib.parse.unquote(rest).strip("/")
            under = [p for (r, p) in self.files if r == repo and (p.startswith(folder + "/") or not folder)]
            if not any(r == repo for r, _ in self.files):
                return self._send(404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"})
            children = sorted({p[len(folder) + 1 if folder else 0:].split("/")[0] for p in under})
            entries = []
            for c in children:
                full = f"{folder}/{c}" if folder else c
                blob = self.files.get((repo, full))
                entries.append({"type": "file", "oid": "0" * 40, "path": full, "size": len(blob)} if blob is not None
                               else {"type": "directory", "oid": "0" * 40, "path": full})
            q = urllib.parse.parse_qs(url.query)
            start = int(q.get("cursor", ["0"])[0])
            page = entries[start:start + self.page_size[0]]
            headers = {}
            if start + self.page_size[0] < len(entries):
                q["cursor"] = [str(start + self.page_size[0])]
                nxt = f"http://{self.headers['Host']}{url.path}?{urllib.parse.urlencode(q, doseq=True)}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            return self._send(200, json.dumps(page).encode(), headers)
        repo, _, path = url.path[len("/datasets/"):].partition("/resolve/main/")
        if (repo, urllib.parse.unquote(path)) not in self.files:
            return self._send(404, b"not found", {"X-Error-Code": "EntryNotFound"})
        self._send(302, b"", {"Location": f"http://127.0.0.1:{self.cdn_port[0]}/cdn/{repo}/{path}"})

    def _serve_file(self, key):
        repo = "/".join(key.split("/")[:2])
        blob = self.files.get((repo, key[len(repo) + 1:]))
        if blob is None:
            return self._send(404, b"not found", {})
        a, b = 0, len(blob) - 1
        if self.headers.get("Range"):
            a, b = (int(x) for x in self.headers["Range"].split("=")[1].split("-"))
            b = min(b, len(blob) - 1)
        self._send(206 if self.headers.get("Range") else 200, blob[a:b + 1], {"Content-Range": f"bytes {a}-{b}/{len(blob)}"})

    def _send(self, code, body, headers):
        self.send_response(code)
        for k, v in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(k, v)
        self.end_headers()
        if self.drop_next[0] > 0 and len(body) > 100:
            self.drop_next[0] -= 1
            body = body[: len(body) // 3]  # then the connection closes mid-body
            self.close_connection = True
        self.wfile.write(body)
        self.sent[0] += len(body)


@pytest.fixture
def hub(monkeypatch):
    """A local Hub and its CDN on 127.0.0.1; any other connection attempt fails the test."""
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), HubHandler) for _ in range(2)]
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    HubHandler.cdn_port[0] = servers[1].server_address[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{servers[0].server_address[1]}")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", os.path.join(ROOT, "tests", "no-such-login-file"))  # no real login
    from scalex import sources
    monkeypatch.setattr(sources, "HUB_BACKOFF_S", 0.001)
    real = socket.create_connection

    def guarded(addr, *a, **kw):
        assert addr[0] in ("127.0.0.1", "localhost"), f"network access outside the test: {addr}"
        return real(addr, *a, **kw)
    monkeypatch.setattr(socket, "create_connection", guarded)
    HubHandler.files, HubHandler.sent[0], HubHandler.fail_next[0], HubHandler.drop_next[0] = {}, 0, 0, 0
    HubHandler.page_size[0], HubHandler.private, HubHandler.auth_seen[:] = 2, set(), []
    yield HubHandler
    for srv in servers:
        srv.shutdown()


def parquet_bytes(texts, row_group_size):
    import pyarrow as pa
    import pyarrow.parquet as pq
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": texts, "id": list(range(len(texts)))}), buf, row_group_size=row_group_size)
    return buf.getvalue()
