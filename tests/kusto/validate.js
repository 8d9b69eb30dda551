// Parses and semantically checks KQL queries with Microsoft's Kusto language service.
// stdin: {"tables": {"Name": {"Column": "type", ...}}, "queries": ["...", ...]}
// stdout: one result per query: {"diagnostics": [[severity, code, message, offset]],
//   "columns": [column names of the given tables the query refers to],
//   "strings": [values of its string literals]}
require("@kusto/language-service-next/bridge.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.js");

const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const S = Kusto.Language.Symbols;
const tables = Object.entries(input.tables).map(([name, columns]) => {
  const schema = "(" + Object.entries(columns).map(([c, t]) => `['${c}']:${t}`).join(", ") + ")";
  return new S.TableSymbol.$ctor7(name, schema, null);
});
const globals = Kusto.Language.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.ctor("logs", tables));
const known = new Set(Object.values(input.tables).flatMap((columns) => Object.keys(columns)));

const results = input.queries.map((query) => {
  const code = Kusto.Language.KustoCode.ParseAndAnalyze(query, globals);
  const found = code.GetDiagnostics();
  const diagnostics = [];
  for (let i = 0; i < found.Count; i++) {
    const d = found.getItem(i);
    diagnostics.push([d.Severity, d.Code, d.Message, d.Start]);
  }
  const columns = new Set();
  const strings = [];
  code.Syntax.WalkElements((node) => {
    if (node instanceof Kusto.Language.Syntax.NameReference) {
      const symbol = node.ReferencedSymbol;
      if (symbol instanceof S.ColumnSymbol && known.has(symbol.Name)) columns.add(symbol.Name);
    } else if (node instanceof Kusto.Language.Syntax.LiteralExpression && typeof node.LiteralValue === "string") {
      strings.push(node.LiteralValue);
    }
  });
  return { diagnostics, columns: [...columns].sort(), strings };
});
process.stdout.write(JSON.stringify(results));
