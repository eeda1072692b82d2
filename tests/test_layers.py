"""The packages stand on each other in one order, and no import runs up it: util/ knows none of the
project's packages, data/ only util/, models/ only data/ and util/, and so on up to the entry points.
Every import is read from the source (ast), also those inside functions."""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Lowest first: a package may import those below it only.
LAYERS = ('util', 'data', 'models', 'options', 'trainers', 'evaluation', 'inference')
# Above every layer: the command lines and scripts (none of which a layer may import).
TOP = ('train', 'test', 'evaluate', 'generate', 'serve', 'export', 'hubconf', 'scripts')


def imports(path):
    """The project modules a file imports, as dotted names (relative imports resolved)."""
    package = os.path.relpath(os.path.dirname(path), ROOT).replace(os.sep, '.')
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
    return [name for name in found if name.split('.')[0] in LAYERS + TOP]


def layer_files(layer):
    for folder, _, files in os.walk(os.path.join(ROOT, layer)):
        yield from (os.path.join(folder, f) for f in sorted(files) if f.endswith('.py'))


def uphill():
    """'file imports module' for every import of a layer from its own level or above (its own package
    is fine)."""
    found = []
    for level, layer in enumerate(LAYERS):
        allowed = set(LAYERS[:level + 1])
        for path in layer_files(layer):
            for name in imports(path):
                if name.split('.')[0] not in allowed:
                    found.append(f"{os.path.relpath(path, ROOT)} imports {name}")
    return found


def test_no_import_runs_up_the_layers():
    assert uphill() == []


def test_the_walk_sees_imports_inside_functions_and_relative_ones(tmp_path):
    source = tmp_path / 'm.py'
    source.write_text("import os\n\ndef f():\n    from models import unwrap\n    import train\n")
    assert sorted(imports(str(source))) == ['models', 'train']
    assert 'models.networks.discriminator' in imports(os.path.join(ROOT, 'models', 'networks', '__init__.py'))
