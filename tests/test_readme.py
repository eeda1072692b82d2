"""The README's "Where things live" table matches the tree: every path it names exists, and every
top-level module of the project (a .py file, or a folder holding Python files) is named in it."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def table_paths():
    """The backticked paths of the table's last column."""
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        section = f.read().split('## Where things live\n', 1)[1].split('\n## ', 1)[0]
    rows = [line for line in section.splitlines() if line.startswith('|')][2:]  # (header, ---)
    return [path for row in rows for path in re.findall(r'`([^`]+)`', row.strip().strip('|').split('|')[-1])]


def top_level_modules():
    found = []
    for name in sorted(os.listdir(ROOT)):
        path = os.path.join(ROOT, name)
        if name.startswith(('.', '_')):
            continue
        if name.endswith('.py') and os.path.isfile(path):
            found.append(name)
        elif os.path.isdir(path) and any(f.endswith('.py') for _, _, files in os.walk(path) for f in files):
            found.append(name + '/')
    return found


def test_every_path_in_the_table_exists():
    paths = table_paths()
    assert len(paths) > 30
    assert [p for p in paths if not os.path.exists(os.path.join(ROOT, p))] == []


def test_every_top_level_module_is_in_the_table():
    paths = table_paths()
    modules = top_level_modules()
    assert {'train.py', 'test.py', 'models/', 'data/', 'options/', 'util/'} <= set(modules)
    assert [m for m in modules if not any(p == m or p.startswith(m) for p in paths)] == []
