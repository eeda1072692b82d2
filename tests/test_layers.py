"""The packages stand on each other as declared here, and nothing imports against it.

PACKAGES says what each package may import; the declaration is the true one: every allowed edge is used,
so a package never sits higher than it needs to. Above them, the entry points (the top-level scripts) may
import any package but not each other; scripts/ may import packages and entry points. Every folder holding
Python outside tests/ must be declared: a new one fails until it is placed. Imports are read from the source
(ast), also those inside functions, relative ones, and importlib's (`import_module('x')`, a file loaded with
`spec_from_file_location`)."""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = {
    'util': (),
    'data': ('util',),
    'models': ('data', 'util'),
    'evaluation': ('data', 'util'),
    'options': ('data', 'models', 'util'),
    'trainers': ('util',),
    'inference': ('data', 'models', 'options', 'util'),  # (a model card rebuilds the training command)
    'experiments': ('data', 'evaluation', 'models', 'options', 'util'),
}
SCRIPTS = 'scripts'
NO_PYTHON = ('tests', 'docs', 'web', 'datasets', 'checkpoints', 'results', 'runs')  # (tests import anything)


def top_level(name):
    return name.split('.')[0]


def imports(path, root=ROOT):
    """The modules a file imports, as dotted names (relative imports resolved; importlib's constant names)."""
    package = os.path.relpath(os.path.dirname(path), root).replace(os.sep, '.')
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                base = '.'.join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            found.append(base)
        elif isinstance(node, ast.Call):
            found += importlib_target(node)
    return found


def importlib_target(call):
    """import_module('a.b') / import_module(f'a.{x}') -> ['a.b'] / ['a']; spec_from_file_location(..., '.../x.py')
    -> ['x'] (a file of the project named by a string constant)."""
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, 'id', '')
    if name == 'import_module' and call.args:
        arg = call.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return [arg.value]
        if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
            return [arg.values[0].value.rstrip('.')]
    if name == 'spec_from_file_location':
        files = [n.value for a in call.args[1:] for n in ast.walk(a)
                 if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.endswith('.py')]
        folders = [n.value for a in call.args[1:] for n in ast.walk(a)
                   if isinstance(n, ast.Constant) and isinstance(n.value, str) and not n.value.endswith('.py')]
        return [('.'.join(f for f in folders if f) + '.' if folders else '') + f[:-3] for f in files]
    return []


def python_files(folder):
    for d, dirs, files in os.walk(folder):
        dirs[:] = [x for x in dirs if not x.startswith(('.', '__'))]
        yield from (os.path.join(d, f) for f in sorted(files) if f.endswith('.py'))


def layout(root=ROOT):
    """(packages and script folders found with Python, top-level entry points) of a checkout."""
    folders = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith('.')
                     and d not in NO_PYTHON and any(python_files(os.path.join(root, d))))
    entries = sorted(f[:-3] for f in os.listdir(root) if f.endswith('.py'))
    return folders, entries


def violations(root=ROOT):
    """'file imports module (why)' for every import against the declaration, and every undeclared folder."""
    folders, entries = layout(root)
    project = set(PACKAGES) | set(entries) | {SCRIPTS}
    found = [f"{d}/: a folder of Python that tests/test_layers.py does not place; add it to PACKAGES"
             for d in folders if d not in PACKAGES and d != SCRIPTS]
    owners = [(d, set(PACKAGES.get(d, ())) | {d}) for d in folders if d in PACKAGES]
    owners += [(SCRIPTS, set(PACKAGES) | set(entries) | {SCRIPTS})]
    files = [(path, allowed) for d, allowed in owners for path in python_files(os.path.join(root, d))]
    files += [(os.path.join(root, e + '.py'), set(PACKAGES)) for e in entries]
    for path, allowed in files:
        for name in imports(path, root):
            if top_level(name) in project and top_level(name) not in allowed | {os.path.basename(path)[:-3]}:
                found.append(f"{os.path.relpath(path, root)} imports {name}")
    return found


def used_edges(root=ROOT):
    edges = set()
    for package in PACKAGES:
        for path in python_files(os.path.join(root, package)):
            edges |= {(package, top_level(n)) for n in imports(path, root) if top_level(n) in PACKAGES}
    return {(a, b) for a, b in edges if a != b}


def test_nothing_imports_against_the_declared_layers():
    assert violations() == []


def test_the_declaration_is_the_true_one_every_allowed_import_is_used():
    declared = {(a, b) for a, deps in PACKAGES.items() for b in deps}
    assert declared == used_edges()


def test_the_walk_sees_imports_inside_functions_relative_ones_and_importlibs(tmp_path):
    source = tmp_path / 'm.py'
    source.write_text("import os, importlib\n\ndef f():\n    from models import unwrap\n    import train\n"
                      "    importlib.import_module('evaluate')\n    importlib.import_module(f'data.{x}_dataset')\n"
                      "    importlib.util.spec_from_file_location('t', os.path.join(ROOT, 'scripts', 'gpu_check.py'))\n")
    assert sorted(imports(str(source))) == ['data', 'evaluate', 'importlib', 'models', 'os', 'scripts.gpu_check',
                                            'train']
    assert 'models.networks.discriminator' in imports(os.path.join(ROOT, 'models', 'networks', '__init__.py'))


def fake_checkout(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    return str(tmp_path)


def test_an_unknown_package_or_an_uphill_importlib_import_fails(tmp_path):
    root = fake_checkout(tmp_path, {'train.py': '', 'newpkg/__init__.py': 'import train\n'})
    assert violations(root) == ["newpkg/: a folder of Python that tests/test_layers.py does not place; add it to "
                                "PACKAGES"]
    root = fake_checkout(tmp_path / 'b', {'train.py': '', 'util/x.py': "import importlib\nimportlib.import_module('train')\n"})
    assert violations(root) == ['util/x.py imports train']
    root = fake_checkout(tmp_path / 'c', {'train.py': '', 'test.py': 'import train\n'})
    assert violations(root) == ['test.py imports train']  # entry points do not import each other
    root = fake_checkout(tmp_path / 'd', {'train.py': '', 'scripts/s.py': 'import train\nimport util\n'})
    assert violations(root) == []  # scripts stand above the entry points
