"""A local painting page for a trained model (GauGAN-style): `python serve.py --name NAME [--port 8000]`
(or --model DIR: a release folder, export.py's, or a run's folder).

Open http://127.0.0.1:8000/, paint a label map with the model's classes (or start from a val label
map of the dataset it was trained on, or upload a label PNG), press "synthesize": the image and its
LBP map appear side by side. The server is the Python standard library's http.server (no extra
dependency, nothing fetched: it works offline) and the page is one file, web/serve.html, with its
scripts and styles inline. It listens on 127.0.0.1 unless --host says otherwise, and answers only
requests addressed to it (Host 127.0.0.1, localhost, [::1] or --host's; any with --host 0.0.0.0),
so that no web page can read it through DNS rebinding; one synthesis runs at a time (the
Synthesizer's lock).

HTTP API (what the page uses; errors are JSON {"error": "..."} with a 4xx status, 403 for another Host):
  GET  /                  the page
  GET  /api/info          {name, width, height, label_nc, dontcare, use_vae, has_lbp, classes: [{id, name,
                           color}], default_class, val: [names], max_upload}
  GET  /api/val?i=K       the K-th val label map as {width, height, ids: [row-major model ids]}
  POST /api/labels?format=auto|ids|colors   body: a label PNG -> the same JSON, resized to the model's size
  POST /api/synthesize    body: a label PNG (Content-Type image/png; query format=auto|ids|colors|model,
                           seed=N, output=json|image|lbp) or JSON {"labels": base64 PNG, "format", "seed",
                           "style": base64 photo}; the label map must have the model's size.
                           -> {image: PNG data URL, lbp: PNG data URL or null, seconds} (output=json),
                           or the image / LBP map as image/png
"""
import argparse
import base64
import binascii
import io
import json
import os
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from PIL import Image

from data import label_maps
from data.base_dataset import sample_key
from inference import Synthesizer
from inference.release import label_files
from options.model_options import add_model_options, model_folder
from util import machine
from util.errors import UserError, exit_on_user_error

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'web', 'serve.html')
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
MAX_UPLOAD = 8 * 1024 * 1024  # bytes of one request body
MAX_PIXELS = 4096 * 4096  # of an uploaded label map or photo, checked before decoding


class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


class App:
    """The model, its val label files and the request logic, apart from HTTP."""

    def __init__(self, synth, name, max_upload=MAX_UPLOAD, val_files=None):
        self.synth, self.name, self.max_upload = synth, name, max_upload
        self.val_files = label_files(synth.run, 'val') if val_files is None else val_files

    def info(self):
        s, config = self.synth, self.synth.config
        classes = [{'id': i, 'name': n, 'color': list(c)} for i, n, c in s.classes()]
        return {'name': self.name, 'width': s.size[0], 'height': s.size[1], 'label_nc': config.label_nc,
                'dontcare': config.label_nc if config.contain_dontcare_label else None, 'use_vae': s.use_vae,
                'has_lbp': s.has_lbp, 'classes': classes, 'default_class': classes[0]['id'],
                'val': [sample_key(p) for p in self.val_files], 'max_upload': self.max_upload}

    def ids_json(self, ids, note=None):
        h, w = ids.shape
        out = {'width': w, 'height': h, 'ids': ids.astype(int).ravel().tolist()}
        if note:
            out['note'] = note
        return out

    def val(self, query):
        try:
            i = int(query.get('i', [''])[0])
            path = self.val_files[i]
        except (ValueError, IndexError):
            raise BadRequest(404, f"no val label map #{query.get('i', [''])[0]} ({len(self.val_files)} there)") from None
        label = label_maps.read_label_map(path, self.synth.config)
        ids, before = self.synth.fit(label.ids, path)
        return self.ids_json(ids, resized_note(before, self.synth.size))

    def labels(self, body, query):
        fmt = query_value(query, 'format', 'auto', ('auto', 'ids', 'colors', 'model'))
        label = self.read_png(body, fmt)
        ids, before = self.synth.fit(label.ids, 'the uploaded label map')
        return self.ids_json(ids, resized_note(before, self.synth.size))

    def read_png(self, body, fmt, name='the uploaded label map'):
        if not body.startswith(PNG_MAGIC):
            raise BadRequest(415, f"{name} is not a PNG (it starts with {body[:8]!r}); save the label map as PNG")
        check_pixels(body, name)
        return label_maps.read_label_map(bytes(body), self.synth.config, fmt, name)

    def synthesize(self, body, content_type, query):
        """-> (image PNG bytes, LBP PNG bytes or None, seconds)."""
        style = None
        if content_type.startswith('application/json'):
            try:
                request = json.loads(body)
                if not isinstance(request, dict):
                    raise ValueError('not an object')
                labels = base64.b64decode(request.get('labels') or '', validate=True)
                style = base64.b64decode(request['style'], validate=True) if request.get('style') else None
            except (ValueError, TypeError, binascii.Error) as e:  # TypeError: a number where base64 belongs
                raise BadRequest(400, f"bad JSON request ({e}): send {{\"labels\": base64 PNG, \"format\", "
                                      f"\"seed\", \"style\"}}") from None
            query = {k: [str(v)] for k, v in request.items() if k in ('format', 'seed') and v not in (None, '')}
        elif content_type.startswith('image/') or content_type in ('', 'application/octet-stream'):
            labels = body
        else:
            raise BadRequest(415, f"Content-Type {content_type}: send the label map as image/png or JSON")
        fmt = query_value(query, 'format', 'auto', ('auto', 'ids', 'colors', 'model'))
        seed = query_value(query, 'seed', None)
        if seed is not None:
            try:
                seed = int(seed)
            except ValueError:
                raise BadRequest(400, f"seed {seed!r}: a whole number, or leave it empty for a random style") from None
        if style is not None:
            if not self.synth.use_vae:
                raise BadRequest(400, f"{self.name} was trained without --use_vae: it takes no style photo")
            check_pixels(style, 'the style photo')
        label = self.read_png(labels, fmt)
        w, h = self.synth.size
        if label.size != (w, h):
            raise BadRequest(400, f"the label map is {label.size[0]}x{label.size[1]}, this model takes {w}x{h}; "
                                  f"resize it (nearest neighbour) or load it with 'upload label PNG', which does")
        start = time.perf_counter()
        result = self.synth(label.ids, style=style, seed=seed)
        seconds = time.perf_counter() - start
        return png(result.image), None if result.lbp is None else png(result.lbp), seconds


def query_value(query, key, default, choices=None):
    value = query.get(key, [default])[0]
    if value in ('', None):
        return default
    if choices and value not in choices:
        raise BadRequest(400, f"{key} {value!r}: one of {', '.join(choices)}")
    return value


def check_pixels(body, name):
    """Refuse a picture too large to decode safely, from its header alone."""
    try:
        with Image.open(io.BytesIO(body)) as img:
            w, h = img.size
    except Exception as e:  # PIL raises many types for garbage; the message names the upload
        raise BadRequest(400, f"{name}: not a readable image ({type(e).__name__}: {e})") from None
    if w * h > MAX_PIXELS:
        raise BadRequest(413, f"{name} is {w}x{h}, over the {MAX_PIXELS // 1_000_000} megapixel limit; resize it first")


def resized_note(before, size):
    return None if not before else (f"resized from {before[0]}x{before[1]} to the model's {size[0]}x{size[1]} "
                                    f"(nearest neighbour)")


def png(array):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format='PNG')
    return buf.getvalue()


def data_url(data_bytes):
    return 'data:image/png;base64,' + base64.b64encode(data_bytes).decode()


class Handler(BaseHTTPRequestHandler):
    server_version = 'ULBPGAN-serve'
    app = None  # set by make_server

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            super().log_message(fmt, *args)

    def do_GET(self):
        self.handle_request(self.get)

    def do_POST(self):
        self.handle_request(self.post)

    def handle_request(self, method):
        """Every answer goes through here: a BadRequest or UserError is a 4xx with its message, anything
        else a 500 with one line (the traceback goes to the server's stderr, never to the client)."""
        try:
            self.check_host()
            method(urlparse(self.path))
        except BadRequest as e:
            self.send_json({'error': e.message}, e.status)
        except UserError as e:
            self.send_json({'error': ' '.join(str(e).split())}, 400)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:
            traceback.print_exc()
            self.send_json({'error': f"internal error: {type(e).__name__}: {e}"}, 500)

    def check_host(self):
        """Answer only requests addressed to this server: a web page the user visits could otherwise read
        it through DNS rebinding (its own name resolving to 127.0.0.1), as Jupyter guards against."""
        allowed = self.server.allowed_hosts
        host = host_name(self.headers.get('Host', ''))
        if allowed is not None and host not in allowed:
            self.close_connection = True
            raise BadRequest(403, f"Host {host or '(none)'}: this server answers requests addressed to "
                                  f"{', '.join(sorted(allowed))} only")

    def get(self, url):
        app = self.server.app
        if url.path in ('/', '/index.html'):
            with open(PAGE, 'rb') as f:
                self.send_bytes(f.read(), 'text/html; charset=utf-8')
        elif url.path == '/api/info':
            self.send_json(app.info())
        elif url.path == '/api/val':
            self.send_json(app.val(parse_qs(url.query)))
        elif url.path == '/favicon.ico':
            self.send_bytes(b'', 'image/x-icon', 204)
        else:
            raise BadRequest(404, f"no page {url.path}")

    def post(self, url):
        app = self.server.app
        if url.path not in ('/api/labels', '/api/synthesize'):
            self.read_body(app.max_upload)
            raise BadRequest(404, f"no API {url.path}: POST /api/synthesize or /api/labels")
        body = self.read_body(app.max_upload)
        query = parse_qs(url.query)
        if url.path == '/api/labels':
            self.send_json(app.labels(body, query))
            return
        output = query_value(query, 'output', 'json', ('json', 'image', 'lbp'))
        image, lbp, seconds = app.synthesize(body, self.headers.get('Content-Type', ''), query)
        if output == 'image':
            self.send_bytes(image, 'image/png')
        elif output == 'lbp':
            if lbp is None:
                raise BadRequest(400, f"{app.name} has no LBP generator (--netG {app.synth.config.netG})")
            self.send_bytes(lbp, 'image/png')
        else:
            self.send_json({'image': data_url(image), 'lbp': None if lbp is None else data_url(lbp),
                            'seconds': round(seconds, 3)})

    def read_body(self, limit):
        length = self.headers.get('Content-Length')
        if length is None:
            self.close_connection = True
            raise BadRequest(411, "no Content-Length: send the file as the request body")
        try:
            length = int(length)
        except ValueError:
            self.close_connection = True
            raise BadRequest(400, f"Content-Length {length!r} is not a number") from None
        if length > limit:
            # Read what was sent (up to 8× the limit) so the client sees this answer, not a reset.
            if length <= 8 * limit:
                remaining = length
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    remaining -= len(chunk)
            self.close_connection = True
            raise BadRequest(413, f"the upload is {length / 1e6:.1f} MB, over the {limit / 1e6:.1f} MB limit; "
                                  f"send a smaller label map")
        return self.rfile.read(length)

    def send_json(self, obj, status=200):
        self.send_bytes(json.dumps(obj).encode(), 'application/json', status)

    def send_bytes(self, body, content_type, status=200):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cache-Control', 'no-store')
        self.end_headers()
        if body:
            self.wfile.write(body)


LOOPBACK = ('127.0.0.1', 'localhost', '[::1]')
ALL_INTERFACES = ('', '0.0.0.0', '::')


def host_name(header):
    """A Host header's host, without the port, lower case ('[::1]:8000' -> '[::1]')."""
    header = header.strip().lower()
    if header.startswith('['):
        return header[:header.find(']') + 1]
    return header.split(':')[0]


def allowed_hosts(host):
    """The Host names a server listening on `host` answers: the loopback names and --host's; None (any)
    when it listens on every interface, where the names it is reached by are not known."""
    if host in ALL_INTERFACES:
        return None
    return set(LOOPBACK) | {f'[{host}]' if ':' in host else host.lower()}


def make_server(app, host='127.0.0.1', port=8000, quiet=False):
    """A ThreadingHTTPServer for `app` (not yet serving): port 0 picks a free one (server.server_port)."""
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.app, server.quiet, server.allowed_hosts = app, quiet, allowed_hosts(host)
    return server


def parse(args=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_model_options(p)
    p.add_argument('--host', default='127.0.0.1',
                   help='address to listen on (127.0.0.1: this machine only); requests must be addressed to it, '
                        '127.0.0.1, localhost or [::1] (0.0.0.0: any address)')
    p.add_argument('--port', type=int, default=8000, help='0 picks a free port')
    p.add_argument('--max_upload_mb', type=float, default=MAX_UPLOAD / 2 ** 20, help='largest request body')
    return p.parse_args(args)


def app_of(a):
    """The App of parsed options: the model they name (--name or --model) on their device."""
    folder, name = model_folder(a)
    synth = Synthesizer(folder, device=machine.device_for(a.gpu_ids), which_epoch=a.which_epoch,
                        verify=not a.no_verify)
    return App(synth, name, int(a.max_upload_mb * 2 ** 20))


def main(args=None):
    a = parse(args)
    app = app_of(a)
    synth = app.synth
    try:
        server = make_server(app, a.host, a.port)
    except (OSError, OverflowError) as e:  # OverflowError: a port outside 0..65535
        raise UserError(f"cannot listen on {a.host}:{a.port} ({getattr(e, 'strerror', None) or e}); pass another "
                        f"--port (0..65535)") from None
    w, h = synth.size
    print(f"{app.name}: {w}x{h}, {len(synth.classes())} classes, {len(app.val_files)} val label maps; "
          f"open http://{a.host}:{server.server_port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == '__main__':
    sys.exit(exit_on_user_error(main))
