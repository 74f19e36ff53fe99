"""engine/ imports only the standard library, numpy, numba and itself."""

import ast
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "numba", "engine"}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.lineno, node.module or ""))
    return found


def test_engine_has_modules():
    assert (ENGINE / "network.py").is_file()


def test_engine_imports_only_stdlib_numpy_numba_and_itself():
    bad = [f"{path.name}:{line}: {name}"
           for path in sorted(ENGINE.glob("*.py"))
           for line, name in _imports(path)
           if name.split(".")[0] not in ALLOWED]
    assert bad == []


def test_checker_sees_a_web_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("import fastapi\nfrom app.main import create_app\nimport numpy as np\n")
    names = [name for _, name in _imports(module)]
    assert [n for n in names if n.split(".")[0] not in ALLOWED] == ["fastapi", "app.main"]
