"""No module of the shipped package splices a value into the text of a statement.

Values reach SQL in one way: a ``%(name)s`` slot of a ``Statement`` (``wellapi.store.sql``),
which ``Statement.bind`` turns into a parameter (``$1``) whose value is sent apart from the
text, in a Bind message (``wellapi.store.connections.send``).
A statement's text is composed from fixed parts (identifiers and conditions from the
resources' descriptions, the ledgers, module constants, other composed text) and holds no
value of a request or a message.

What the check reads, statically, in every module under ``layers/shared/wellapi`` but
``store/sql.py`` (which numbers the slots). A string
expression "reads as SQL" when its fixed text holds an upper-case SQL keyword (``SELECT``,
``WHERE``, ``VALUES``, ``LIMIT``...), a cast (``::``), the schema's name, a ``pg_`` function,
``decode(`` or ``interval``:
an f-string, a ``%`` or ``.format`` applied to a string constant, or a ``+`` chain with a
string constant in it. The module fails when:

1. it calls a literal renderer (pg8000's ``literal``, or a ``to_literal`` of its own): no
   value is turned into SQL text;
2. an expression that reads as SQL puts in a value rendered on the spot: a call of ``int``,
   ``str``, ``float``, ``repr``, ``format``, ``hex``, ``map``, or of a value's ``.hex``,
   ``.isoformat``, ``.strftime``, or a ``!r``/``!s``/``!a`` conversion or a format spec;
3. an expression that reads as SQL puts something inside one of its quoted strings
   (``'{value}'``, ``interval '{days} days'``): a value quoted by hand; a constant of the
   text is written with ``wellapi.resources.conditions.constant`` instead;
4. an expression that reads as SQL puts in, as it is (or a member or item of it), a parameter
   of its function annotated as a value (``int``, ``float``, ``bool``, ``UUID``,
   ``datetime``, ``bytes``, or a sequence of them); given to a call, such a parameter is a
   shape (how many slots ``slots`` writes), which rule 2 watches;
5. a function whose text reads as SQL joins values it renders (``", ".join(str(pk) for ...)``),
   the list then put into the statement under another name.

What it does not see: a value that arrives as a ``str`` parameter, or under another name,
and is put into the text as it is (a ``str`` is also what every composed fragment is, so its
origin would need a data-flow analysis); a value turned into text in one statement and put
into SQL in another (``text = str(pk)``, then ``f"... {text}"``), unless the turning is a join
(rule 5). Statements joined to one another (the re-read a stored response wraps) are text
every value of which goes through a slot. What it misses is held by the rule
the modules follow (``wellapi.sqltext``: a text composed by a function of fixed choices,
cached, its values only in slots) and by the database tests that send hostile values through
the statements.

The check fails on the sync writer, the sweeper, the drainer and retention as they were
written before they composed their statements this way (f-strings of ``to_literal``, ``int``
and hand-quoted hexadecimal), and on the five API modules that spliced too (the scope, the
proofs, the client id's check, the idempotency statements, the changes feed):
``test_the_check_finds_every_kind_of_splice`` holds each rule to an example of that code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "shared" / "wellapi"
# Where slots become parameters: the one module that writes a statement's final text.
RENDERER = PACKAGE / "store" / "sql.py"

_READS_AS_SQL = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES|LIMIT|FROM|JOIN|SET|INTERVAL)\b"
    r"|::|core_api\.|\bpg_\w+\(|\bdecode\(|\binterval\b"
)
_RENDERING_CALLS = frozenset({"int", "str", "float", "repr", "format", "hex", "map"})
_RENDERING_METHODS = frozenset({"hex", "isoformat", "strftime"})
_LITERAL_FUNCTIONS = frozenset({"to_literal", "literal"})
_VALUE_TYPES = frozenset({"int", "float", "bool", "UUID", "datetime", "bytes"})


def _reads_as_sql(fixed: str) -> bool:
    return bool(_READS_AS_SQL.search(fixed))


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _renders_a_value(node: ast.AST) -> bool:
    """Whether ``node`` turns a value into text on the spot (anywhere inside it)."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            name = _callee(inner)
            if isinstance(inner.func, ast.Name) and name in _RENDERING_CALLS:
                return True
            if isinstance(inner.func, ast.Attribute) and name in _RENDERING_METHODS:
                return True
        if isinstance(inner, ast.FormattedValue) and (
            inner.conversion != -1 or inner.format_spec is not None
        ):
            return True
    return False


def _put_in(node: ast.AST) -> str | None:
    """The name whose value ``node`` puts in as it is (``pk``, ``part.pk``, ``pks[0]``); None
    when it puts in what a call returns (a composition helper's text, given a shape)."""
    while isinstance(node, ast.FormattedValue | ast.Attribute | ast.Subscript | ast.Starred):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _value_parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The parameters annotated as values (``int``, ``UUID``, ``Sequence[int]``...)."""
    found = set()
    arguments = function.args
    for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
        annotation = argument.annotation
        if annotation is None:
            continue
        names = {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)}
        names |= {
            n.value for n in ast.walk(annotation) if isinstance(n, ast.Constant)
        } & _VALUE_TYPES
        if names & _VALUE_TYPES and not names & {"str", "Any", "object"}:
            found.add(argument.arg)
    return found


def _pieces(node: ast.AST) -> tuple[list[str], list[ast.AST], list[bool]] | None:
    """A string expression's fixed text, what it puts in, and whether each thing it puts in
    lands inside a quoted SQL string; None when ``node`` builds no string from parts."""
    if isinstance(node, ast.JoinedStr):
        return _inserted(node.values, ast.FormattedValue)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            return [node.left.value], [node.right], []
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        target = node.func.value
        if node.func.attr == "format" and isinstance(target, ast.Constant):
            return [str(target.value)], [*node.args, *(k.value for k in node.keywords)], []
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        operands = _added(node)
        fixed = [o.value for o in operands if isinstance(o, ast.Constant)]
        if not fixed or not all(isinstance(f, str) for f in fixed):
            return None
        return _inserted(operands, ast.expr)
    return None


def _inserted(
    parts: list[ast.expr], kind: type[ast.expr]
) -> tuple[list[str], list[ast.AST], list[bool]]:
    """The fixed text of ``parts``, the parts it puts in, and whether each is quoted: an odd
    number of quotes before it in the fixed text (``''`` inside a string counts two)."""
    fixed: list[str] = []
    inserted: list[ast.AST] = []
    quoted: list[bool] = []
    quotes = 0
    for part in parts:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            fixed.append(part.value)
            quotes += part.value.count("'")
        elif isinstance(part, kind):
            inserted.append(part)
            quoted.append(quotes % 2 == 1)
    return fixed, inserted, quoted


def _added(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_added(node.left), *_added(node.right)]
    assert isinstance(node, ast.expr)
    return [node]


def _scopes(tree: ast.Module) -> list[tuple[ast.AST, set[str]]]:
    """The module and each function, with the value parameters in force there."""
    scopes: list[tuple[ast.AST, set[str]]] = [(tree, set())]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            scopes.append((node, _value_parameters(node)))
    return scopes


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    """The nodes of ``scope`` that no nested function holds."""
    found: list[ast.AST] = []
    pending = list(ast.iter_child_nodes(scope))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _sql_splices(node: ast.AST, value_parameters: set[str]) -> list[str]:
    """What is wrong with one string expression that reads as SQL (rules 2, 3 and 4)."""
    pieces = _pieces(node)
    if pieces is None:
        return []
    fixed, inserted, quoted = pieces
    if not _reads_as_sql(" ".join(fixed)):
        return []
    found = []
    for value in inserted:
        if _renders_a_value(value):
            found.append("a value rendered into SQL text")
        name = _put_in(value)
        if name in value_parameters:
            found.append(f"the value parameter {name} put in SQL")
    if any(quoted):
        found.append("a value quoted by hand in SQL text")
    return found


def _joined_values(node: ast.AST) -> bool:
    """Whether ``node`` is a ``.join`` of values it renders (rule 5)."""
    if not (isinstance(node, ast.Call) and _callee(node) == "join" and node.args):
        return False
    items = node.args[0]
    if isinstance(items, ast.GeneratorExp | ast.ListComp):
        return _renders_a_value(items.elt)
    return _renders_a_value(items)


def splices(source: str) -> list[str]:
    """``line: what`` for every splice of a value into SQL text in a module's source."""
    tree = ast.parse(source)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) in _LITERAL_FUNCTIONS:
            found.append(f"{node.lineno}: {_callee(node)} outside the renderer")
    for scope, value_parameters in _scopes(tree):
        own = _own_nodes(scope)
        sql_here = False
        for node in own:
            problems = _sql_splices(node, value_parameters)
            found += [f"{getattr(node, 'lineno', 0)}: {p}" for p in problems]
            pieces = _pieces(node)
            sql_here = sql_here or bool(pieces and _reads_as_sql(" ".join(pieces[0])))
        if sql_here and not isinstance(scope, ast.Module):
            found += [
                f"{n.lineno}: values rendered and joined for SQL text"
                for n in own
                if isinstance(n, ast.Call) and _joined_values(n)
            ]
    return sorted(set(found), key=lambda f: (int(f.split(":")[0]), f))


def test_no_module_of_the_package_splices_a_value_into_sql():
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        # The renderer is where a value becomes text: that is its one job.
        problems = [] if path == RENDERER else splices(path.read_text("utf-8"))
        if problems:
            found[str(path.relative_to(ROOT))] = problems
    assert found == {}


# How the sync writer, the sweeper, the drainer and retention wrote their statements before
# they composed them with slots: each line one kind of splice the check must find.
SPLICES = {
    "to_literal": 'def f(key):\n    return f"SELECT 1 WHERE k = {to_literal(key)}"\n',
    "int": 'def f(rows):\n    return f"SELECT 1 LIMIT {int(rows)}"\n',
    "hexadecimal": "def f(value):\n    return f\"decode('{value.hex()}', 'hex')\"\n",
    "quoted": "def f(days):\n    return f\"WHERE sent_at < now() - interval '{days} days'\"\n",
    "value parameter": 'def f(pk: int):\n    return f"SELECT pg_advisory_xact_lock({pk})"\n',
    "joined": (
        "def f(pks):\n    listed = ', '.join(str(pk) for pk in pks)\n"
        '    return f"UPDATE t SET a = 1 WHERE pk IN ({listed})"\n'
    ),
    "array": 'def f(ids):\n    return "\'{" + ",".join(map(str, ids)) + "}\'::uuid[]"\n',
    "format": "def f(pk):\n    return 'SELECT {}'.format(str(pk))\n",
    "percent": "def f(pk):\n    return 'SELECT %s' % repr(pk)\n",
}


@pytest.mark.parametrize("kind", sorted(SPLICES))
def test_the_check_finds_every_kind_of_splice(kind):
    assert splices(SPLICES[kind]) != []


def test_the_check_lets_composed_text_and_slots_through():
    composed = (
        "from wellapi.resources.conditions import constant, qualified, slot\n"
        "def f(table: str, count: int):\n"
        "    slots = ', '.join(slot(f'pk_{i}') for i in range(count))\n"
        "    return (\n"
        '        f"SELECT pk FROM {qualified(table)} WHERE pk IN ({slots}) "\n'
        "        f\"AND kind = {constant('account')} LIMIT %(limit)s\"\n"
        "    )\n"
    )
    assert splices(composed) == []
