"""serve.py's HTTP API (always) and its page in headless Chromium (where one is installed).

The browser test talks to Chromium over the DevTools protocol with a small websocket client made of the
standard library; Chromium and the server only ever talk to 127.0.0.1.
"""
import base64
import http.client
import io
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.request
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

import serve
from data.cityscapes_dataset import CityscapesDataset
from inference import Synthesizer
from synth_helpers import one_thread, small_label, tiny_checkpoint  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures('one_thread')
CHROMIUM = next((shutil.which(n) for n in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(n)), None)


@pytest.fixture(scope='module')
def server(tiny_checkpoint):
    ckdir, name, _ = tiny_checkpoint
    app = serve.App(Synthesizer(ckdir / name, device='cpu'), name)
    httpd = serve.make_server(app, '127.0.0.1', 0, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def request(server, method, path, body=None, content_type='image/png', host=None):
    """-> (status, Content-Type, body bytes); host: the Host header, if not 127.0.0.1:port."""
    conn = http.client.HTTPConnection('127.0.0.1', server.server_port, timeout=60)
    headers = {'Content-Type': content_type} if body is not None else {}
    if host is not None:
        headers['Host'] = host
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    out = (response.status, response.getheader('Content-Type'), response.read())
    conn.close()
    return out


def test_a_request_addressed_to_another_host_is_refused(server):
    """DNS rebinding: a page of evil.example.com whose name resolves to 127.0.0.1 must not read the API."""
    port = server.server_port
    for host in ('evil.example.com', f'evil.example.com:{port}', f'127.0.0.1.evil.example.com:{port}'):
        status, kind, body = request(server, 'GET', '/api/info', host=host)
        assert status == 403 and kind == 'application/json' and b'addressed to' in body, host
    assert request(server, 'POST', '/api/synthesize', b'x', host='evil.example.com')[0] == 403
    for host in (f'127.0.0.1:{port}', f'localhost:{port}', f'LOCALHOST:{port}', f'[::1]:{port}', 'localhost'):
        assert request(server, 'GET', '/api/info', host=host)[0] == 200, host
    assert serve.allowed_hosts('0.0.0.0') is None and 'pc.lan' in serve.allowed_hosts('pc.lan')
    assert '[fe80::1]' in serve.allowed_hosts('fe80::1')


def png_bytes(array):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format='PNG')
    return buf.getvalue()


def decode(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def test_page_and_info(server, tiny_checkpoint):
    status, kind, page = request(server, 'GET', '/')
    assert status == 200 and kind.startswith('text/html') and b'<canvas id="paint">' in page
    # offline: no scripts, styles, fonts or images from elsewhere
    assert not re.search(rb'(src|href)\s*=\s*["\']?(https?:)?//', page) and b'@import' not in page
    status, _, body = request(server, 'GET', '/api/info')
    info = json.loads(body)
    assert status == 200 and (info['width'], info['height'], info['label_nc']) == (64, 32, 35)
    assert info['use_vae'] and info['has_lbp'] and info['dontcare'] is None
    assert {'id': 26, 'name': 'car', 'color': [0, 0, 142]} in info['classes']
    assert len(info['val']) == 2  # opt.json's dataroot has the demo's val split
    status, _, body = request(server, 'GET', '/api/val?i=1')
    val = json.loads(body)
    assert status == 200 and len(val['ids']) == 64 * 32 and 'resized from 128x64' in val['note']


def test_synthesize_returns_pngs(server, tiny_checkpoint):
    ids = small_label(tiny_checkpoint[2])
    status, kind, body = request(server, 'POST', '/api/synthesize?seed=5&output=image', png_bytes(ids))
    assert status == 200 and kind == 'image/png' and decode(body).shape == (32, 64, 3)
    status, kind, body = request(server, 'POST', '/api/synthesize?seed=5', png_bytes(ids))
    result = json.loads(body)
    assert status == 200 and result['seconds'] > 0
    image = decode(base64.b64decode(result['image'].split(',')[1]))
    lbp = decode(base64.b64decode(result['lbp'].split(',')[1]))
    assert image.shape == (32, 64, 3) and lbp.shape == (32, 64)
    # the page's request: JSON, model ids, a seed; the same seed gives the same picture
    page_request = json.dumps({'labels': base64.b64encode(png_bytes(ids)).decode(), 'format': 'model', 'seed': '5'})
    status, _, body = request(server, 'POST', '/api/synthesize?output=image', page_request, 'application/json')
    assert status == 200 and (decode(body) == image).all()
    # a style photo (the model has the encoder), and a colour label map (Cityscapes' palette)
    photo = base64.b64encode(png_bytes(np.full((20, 30, 3), 90, np.uint8))).decode()
    status, _, _ = request(server, 'POST', '/api/synthesize',
                           json.dumps({'labels': base64.b64encode(png_bytes(ids)).decode(), 'style': photo}),
                           'application/json')
    assert status == 200
    colours = np.array(CityscapesDataset.COLORS, np.uint8)[ids]
    status, _, body = request(server, 'POST', '/api/synthesize?seed=5&output=image', png_bytes(colours))
    assert status == 200
    # upload for the page: resized to the model's size, as ids
    big = np.repeat(np.repeat(colours, 2, 0), 2, 1)
    status, _, body = request(server, 'POST', '/api/labels', png_bytes(big))
    assert status == 200 and json.loads(body)['ids'][:64] == ids[0].astype(int).tolist()


def test_bad_requests_are_4xx_with_a_message(server, tiny_checkpoint):
    ids = small_label(tiny_checkpoint[2])
    odd = np.zeros((32, 64, 3), np.uint8) + np.array([1, 2, 3], np.uint8)
    cases = [
        ('POST', '/api/synthesize', b'GIF89a not a png', 'image/png', 415, 'is not a PNG'),
        ('POST', '/api/synthesize', png_bytes(np.zeros((64, 128), np.uint8)), 'image/png', 400,
         'the label map is 128x64, this model takes 64x32'),
        ('POST', '/api/synthesize', png_bytes(odd), 'image/png', 400, r'colour \(1, 2, 3\) \(2048 px\) is no class colour'),
        ('POST', '/api/synthesize', png_bytes(np.full((32, 64), 99, np.uint8)), 'image/png', 400,
         r'value 99 \(2048 px\) is no class of this model'),
        ('POST', '/api/synthesize?seed=abc', png_bytes(ids), 'image/png', 400, "seed 'abc': a whole number"),
        ('POST', '/api/synthesize', b'{"labels": 5', 'application/json', 400, 'bad JSON request'),
        ('POST', '/api/synthesize', b'{"labels": 5}', 'application/json', 400, 'bad JSON request'),
        ('POST', '/api/synthesize', png_bytes(np.zeros((4100, 4100), np.uint8)), 'image/png', 413, 'megapixel limit'),
        ('POST', '/api/synthesize', b'x' * 100, 'text/plain', 415, 'Content-Type text/plain'),
        ('POST', '/api/labels', png_bytes(np.full((8, 8), 77, np.uint8)), 'image/png', 400, 'value 77'),
        ('GET', '/api/val?i=9', None, None, 404, r'no val label map #9 \(2 there\)'),
        ('GET', '/etc/passwd', None, None, 404, 'no page /etc/passwd'),
    ]
    for method, path, body, kind, status, message in cases:
        got, content_type, answer = request(server, method, path, body, kind)
        assert got == status and content_type == 'application/json', (path, message, answer[:300])
        error = json.loads(answer)['error']
        assert re.search(message, error) and '\n' not in error and 'Traceback' not in error, error
    limit = server.app.max_upload
    server.app.max_upload = 1000
    try:
        got, _, answer = request(server, 'POST', '/api/synthesize', png_bytes(ids) + b'\0' * 2000)
    finally:
        server.app.max_upload = limit
    assert got == 413 and 'over the 0.0 MB limit' in json.loads(answer)['error']
    assert request(server, 'GET', '/api/info')[0] == 200  # still serving


# ---- the page in a real browser ----

class DevTools:
    """A Chrome DevTools Protocol session over a websocket (RFC 6455, client side, text frames)."""

    def __init__(self, url, timeout=60):
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(4096)
            assert chunk, 'DevTools closed the connection'
            head += chunk
        head, self.buffer = head.split(b'\r\n\r\n', 1)
        assert b' 101 ' in head.split(b'\r\n')[0], head
        self.next_id = 0

    def read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            assert chunk, 'DevTools closed the connection'
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else
                                         bytes([0x80 | 126]) + struct.pack('>H', n) if n < 65536 else
                                         bytes([0x80 | 127]) + struct.pack('>Q', n))
        masked = (np.frombuffer(payload, np.uint8) ^ np.resize(np.frombuffer(mask, np.uint8), n)).tobytes()
        self.sock.sendall(head + mask + masked)

    def receive(self):
        message = b''
        while True:
            b0, b1 = self.read(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack('>H', self.read(2))[0]
            elif n == 127:
                n = struct.unpack('>Q', self.read(8))[0]
            payload = self.read(n)
            opcode = b0 & 0x0f
            if opcode == 9:  # ping
                self.send_frame(10, payload)
                continue
            if opcode == 8:
                raise ConnectionError('DevTools closed the websocket')
            message += payload
            if b0 & 0x80:
                return json.loads(message)

    def call(self, method, **params):
        self.next_id += 1
        self.send_frame(1, json.dumps({'id': self.next_id, 'method': method, 'params': params}).encode())
        while True:
            message = self.receive()
            if message.get('id') == self.next_id:
                assert 'error' not in message, message
                return message['result']

    def evaluate(self, expression):
        result = self.call('Runtime.evaluate', expression=expression, returnByValue=True, awaitPromise=True)
        assert 'exceptionDetails' not in result, result['exceptionDetails']
        return result['result'].get('value')

    def wait_for(self, expression, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f'timed out waiting for {expression}')

    def click(self, selector):
        box = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView();"
                            f" const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        self.drag([box])

    def drag(self, points):
        """Press at the first point, move through the rest, release at the last (CSS pixels)."""
        (x, y), *rest = points
        self.call('Input.dispatchMouseEvent', type='mousePressed', x=x, y=y, button='left', buttons=1, clickCount=1)
        for x, y in rest:
            self.call('Input.dispatchMouseEvent', type='mouseMoved', x=x, y=y, button='left', buttons=1)
        self.call('Input.dispatchMouseEvent', type='mouseReleased', x=x, y=y, button='left', buttons=0, clickCount=1)


def open_page(url, profile):
    """Headless Chromium showing url -> (process, DevTools session of its page)."""
    args = [CHROMIUM, '--headless', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
            '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-pings',
            '--disable-extensions', '--disable-default-apps', '--disable-dev-shm-usage',
            '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', f'--user-data-dir={profile}',
            '--window-size=1280,800', url]
    if hasattr(os, 'geteuid') and os.geteuid() == 0:
        args.insert(1, '--no-sandbox')  # Chromium's sandbox refuses to run as root
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file, deadline = profile / 'DevToolsActivePort', time.time() + 60
    while not (port_file.exists() and port_file.read_text().count('\n') >= 1):
        assert proc.poll() is None and time.time() < deadline, 'Chromium did not start'
        time.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    while True:
        with urllib.request.urlopen(f'http://127.0.0.1:{port}/json/list', timeout=10) as r:
            pages = [t for t in json.load(r) if t['type'] == 'page' and t['url'].startswith(url.split('?')[0])]
        if pages:
            return proc, DevTools(pages[0]['webSocketDebuggerUrl'])
        assert time.time() < deadline, 'no page target'
        time.sleep(0.1)


@pytest.mark.skipif(CHROMIUM is None, reason='no Chromium binary (chromium, chromium-browser or google-chrome) on '
                                             'PATH: install it (apt-get install chromium) to drive the page')
def test_page_in_headless_chromium(server, tmp_path):
    url = f'http://127.0.0.1:{server.server_port}/'
    proc, page = open_page(url, tmp_path / 'profile')
    try:
        page.wait_for('window.ulbp && window.ulbp.ready')
        assert page.evaluate('window.ulbp.error') is None
        assert page.evaluate("document.querySelectorAll('.cls').length") == 35
        # the search box filters the class list
        search = "(() => {{ const s = document.getElementById('classSearch'); s.value = '{}';" \
                 " s.dispatchEvent(new Event('input')); }})()"
        page.evaluate(search.format('car'))
        assert page.evaluate("[...document.querySelectorAll('.cls')].filter(e => !e.classList.contains('hidden'))"
                             ".map(e => e.dataset.id).join()") == '26,29'  # car, caravan
        page.click('.cls[data-id="26"]')  # car
        rect = page.evaluate("(() => { const r = document.getElementById('paint').getBoundingClientRect();"
                             " return [r.x, r.y, r.width, r.height]; })()")
        x, y, w, h = rect
        page.drag([(x + w * (0.1 + 0.08 * k), y + h * 0.6) for k in range(11)])  # a horizontal stroke
        page.evaluate(search.format(''))
        page.click('.cls[data-id="23"]')  # sky
        page.drag([(x + w * 0.5, y + h * (0.05 + 0.04 * k)) for k in range(8)])  # a vertical one
        page.click('input[name=tool][value=fill]')
        page.click('.cls[data-id="7"]')  # road, flood-filled from a corner over the blank (class 0) map
        page.drag([(x + 2, y + h - 2)])
        counts = page.evaluate("(() => { const c = {}; for (const v of window.ulbp.state.ids) c[v] = (c[v] || 0) + 1;"
                               " return c; })()")
        assert counts.get('26', 0) > 50 and counts.get('23', 0) > 20 and counts.get('7', 0) > 1000
        assert '0' not in counts  # the fill reached all of the blank map
        page.click('#undo')
        assert page.evaluate("window.ulbp.state.ids.filter(v => v === 7).length") == 0  # undo took the fill back
        page.click('input[name=tool][value=fill]')
        page.drag([(x + 2, y + h - 2)])
        page.evaluate("document.getElementById('seed').value = '11'")
        page.click('#synthesize')
        page.wait_for('window.ulbp.lastMs !== null || window.ulbp.error !== null')
        assert page.evaluate('window.ulbp.error') is None
        shown = page.evaluate("""(() => {
            const img = document.getElementById('outImage'), lbp = document.getElementById('outLbp');
            const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
            const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
            return {w: img.naturalWidth, h: img.naturalHeight, lbp: [lbp.naturalWidth, lbp.naturalHeight],
                    pixels: Array.from(ctx.getImageData(0, 0, c.width, c.height).data),
                    ids: Array.from(window.ulbp.state.ids), ms: window.ulbp.lastMs,
                    status: document.getElementById('status').textContent}; })()""")
        assert (shown['w'], shown['h'], shown['lbp']) == (64, 32, [64, 32])
        assert re.match(r'picture \d+ ms after pressing synthesize', shown['status'])
        # the picture on the page is the server's picture of the painted map
        ids = np.array(shown['ids'], np.uint8).reshape(32, 64)
        status, _, body = request(server, 'POST', '/api/synthesize?format=model&seed=11&output=image', png_bytes(ids))
        expected = decode(body).astype(int)
        pixels = np.array(shown['pixels']).reshape(32, 64, 4)
        assert (pixels[..., 3] == 255).all() and np.abs(pixels[..., :3] - expected).max() <= 1
        print(f"synthesize -> picture: {shown['ms']:.0f} ms")
        # a server error is shown on the page
        page.evaluate('loadVal(9)')
        assert 'no val label map #9' in page.evaluate("document.getElementById('error').textContent")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
