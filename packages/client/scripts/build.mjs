// Builds the publishable package into dist/: an ESM bundle (esbuild) and type declarations.
// The client's types come from the service's catalog (src/catalog.ts imports them from the
// repository's src/ for their types only); a published package cannot point there, so the
// declarations get a dist/catalog.d.ts of the same types written out in full, and the build
// fails unless each written-out type is exactly the derived one.
import { build } from "esbuild";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const sourceDir = join(packageDir, "src");
const distDir = join(packageDir, "dist");
const compilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ES2022,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2023.d.ts"],
  types: ["@cloudflare/workers-types"],
  strict: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: true,
  declaration: true,
  emitDeclarationOnly: true,
};

rmSync(distDir, { recursive: true, force: true });
mkdirSync(distDir);

await build({
  entryPoints: [join(sourceDir, "index.ts")],
  outfile: join(distDir, "index.js"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  logLevel: "warning",
});

// Declarations of the client's own modules; catalog.ts is replaced below.
const sources = readdirSync(sourceDir).filter((name) => name.endsWith(".ts")).map((name) => join(sourceDir, name));
// The service's ambient declarations (its Env), which the catalog's types mention.
const ambient = [join(packageDir, "../../src/env.d.ts")];
const program = ts.createProgram([...sources, ...ambient], { ...compilerOptions, outDir: distDir });
// The service's own files are type-checked by the repository's `tsc`; here only the client's.
failOn(sources.flatMap((file) => ts.getPreEmitDiagnostics(program, program.getSourceFile(file))), "type check");
for (const file of sources.filter((file) => basename(file) !== "catalog.ts")) {
  const result = program.emit(program.getSourceFile(file), (name, text) => writeFileSync(join(distDir, basename(name)), text), undefined, true);
  failOn(result.diagnostics, "declarations");
}
writeFileSync(join(distDir, "catalog.d.ts"), writtenOutCatalog(program));
checkWrittenOut();
checkStandalone();
console.log(`built ${readdirSync(distDir).length} files in ${distDir}`);

function failOn(diagnostics, step) {
  if (!diagnostics.length) return;
  const host = { getCanonicalFileName: (name) => name, getCurrentDirectory: () => packageDir, getNewLine: () => "\n" };
  console.error(ts.formatDiagnostics(diagnostics, host));
  throw new Error(`${step} failed`);
}

/** The types of src/catalog.ts, every one spelled out, with no import of the repository's src/. */
function writtenOutCatalog(program) {
  const checker = program.getTypeChecker();
  const catalogFile = program.getSourceFile(join(sourceDir, "catalog.ts"));
  const aliases = Object.fromEntries(
    catalogFile.statements.filter(ts.isTypeAliasDeclaration).map((statement) => [statement.name.text, checker.getTypeAtLocation(statement.name)]),
  );
  const operationNames = aliases.OperationName.types.map((type) => type.value).sort();
  // Each operation's input and output, resolved through aliases of a file made for the purpose.
  const probeFile = join(sourceDir, "__catalog-probe.ts");
  const probeText = [
    'import type { OperationInput, Output } from "./catalog";',
    ...operationNames.map((name) => `export type Input_${name} = OperationInput<"${name}">;\nexport type Output_${name} = Output<"${name}">;`),
  ].join("\n");
  const host = ts.createCompilerHost(compilerOptions);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (file, ...rest) => (file === probeFile ? ts.createSourceFile(file, probeText, ts.ScriptTarget.ES2022, true) : getSourceFile(file, ...rest));
  host.fileExists = (file) => file === probeFile || fileExists(file);
  host.readFile = (file) => (file === probeFile ? probeText : readFile(file));
  const probe = ts.createProgram([probeFile, ...ambient], compilerOptions, host);
  const probeChecker = probe.getTypeChecker();
  const probed = Object.fromEntries(
    probe.getSourceFile(probeFile).statements.filter(ts.isTypeAliasDeclaration).map((statement) => [statement.name.text, probeChecker.getTypeAtLocation(statement.name)]),
  );
  const lines = [
    "// The operations' types as the service defines them, written out at build time (scripts/build.mjs).",
    "export interface Operations {",
    ...operationNames.flatMap((name) => [
      `  ${name}: {`,
      `    input: ${print(probeChecker, probed[`Input_${name}`], "    ")};`,
      `    output: ${print(probeChecker, probed[`Output_${name}`], "    ")};`,
      "  };",
    ]),
    "}",
    "export type OperationName = keyof Operations;",
    'export type OperationInput<TName extends OperationName> = Operations[TName]["input"];',
    'export type Output<TName extends OperationName> = Operations[TName]["output"];',
    `export type ErrorCode = ${print(checker, aliases.ErrorCode, "")};`,
    `export type ServiceErrorTraits = ${print(checker, aliases.ServiceErrorTraits, "")};`,
    `export type ServiceHttpStatus = ${print(checker, aliases.ServiceHttpStatus, "")};`,
    "",
  ];
  return lines.join("\n");
}

/** A type as TypeScript source, every named type expanded to its structure. */
function print(checker, type, indent) {
  if (type.flags & ts.TypeFlags.Union) {
    const members = type.types;
    const hasBoolean = members.some((member) => member.flags & ts.TypeFlags.BooleanLiteral && checker.typeToString(member) === "true") &&
      members.some((member) => member.flags & ts.TypeFlags.BooleanLiteral && checker.typeToString(member) === "false");
    const printed = members
      .filter((member) => !(hasBoolean && member.flags & ts.TypeFlags.BooleanLiteral))
      .map((member) => print(checker, member, indent));
    return [...(hasBoolean ? ["boolean"] : []), ...printed].join(" | ");
  }
  if (!(type.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection))) return checker.typeToString(type);
  if (checker.isArrayType(type)) {
    const element = print(checker, checker.getTypeArguments(type)[0], indent);
    return `${type.symbol?.name === "ReadonlyArray" ? "readonly " : ""}Array<${element}>`;
  }
  if (checker.isTupleType(type)) return `[${checker.getTypeArguments(type).map((element) => print(checker, element, indent)).join(", ")}]`;
  const inner = `${indent}  `;
  const members = checker.getPropertiesOfType(type).map((property) => {
    const declaration = property.valueDeclaration ?? property.declarations?.[0];
    const optional = property.flags & ts.SymbolFlags.Optional ? "?" : "";
    const readonly = declaration && ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Readonly ? "readonly " : "";
    const propertyType = checker.getTypeOfSymbol(property);
    return `${inner}${readonly}${JSON.stringify(property.name)}${optional}: ${print(checker, propertyType, inner)};`;
  });
  for (const info of checker.getIndexInfosOfType(type)) {
    members.push(`${inner}[key: ${checker.typeToString(info.keyType)}]: ${print(checker, info.type, inner)};`);
  }
  return members.length ? `{\n${members.join("\n")}\n${indent}}` : "{}";
}

/** Fails unless every written-out type is exactly the one derived from the service's source. */
function checkWrittenOut() {
  const checkFile = join(distDir, "check-catalog.ts");
  writeFileSync(
    checkFile,
    [
      'import type * as Derived from "../src/catalog";',
      'import type * as Written from "./catalog";',
      // any would agree with everything: it is refused first.
      "type Same<A, B> = 0 extends 1 & (A | B) ? false : [A] extends [B] ? ([B] extends [A] ? true : false) : false;",
      "type Each = { [N in Derived.OperationName]: [Same<Derived.OperationInput<N>, Written.OperationInput<N>>, Same<Derived.Output<N>, Written.Output<N>>] };",
      "const names: Same<Derived.OperationName, Written.OperationName> = true;",
      "type Mismatched = { [N in Derived.OperationName]: Each[N] extends [true, true] ? never : N }[Derived.OperationName];",
      "const each: [Mismatched] extends [never] ? true : Mismatched = true;",
      "const codes: [Same<Derived.ErrorCode, Written.ErrorCode>, Same<Derived.ServiceErrorTraits, Written.ServiceErrorTraits>, Same<Derived.ServiceHttpStatus, Written.ServiceHttpStatus>] = [true, true, true];",
      "export { names, each, codes };",
      "",
    ].join("\n"),
  );
  try {
    const check = ts.createProgram([checkFile, ...ambient], { ...compilerOptions, noEmit: true, declaration: false, emitDeclarationOnly: false });
    failOn(ts.getPreEmitDiagnostics(check), "written-out catalog types");
  } finally {
    rmSync(checkFile);
  }
}

/** Fails unless the declarations work on their own, in a browser project (DOM types, nothing else). */
function checkStandalone() {
  const checkFile = join(distDir, "check-standalone.ts");
  writeFileSync(
    checkFile,
    [
      'import { createClient, EdgeCmqError } from "./index";',
      'const client = createClient({ endpoint: "https://cmq.example", getToken: async () => ({ token: "t", expiresAt: 0 }) });',
      'export const name: Promise<string> = client.createQueue({ queue: "orders", visibilityTimeout: 60 }).then((created) => created.queue.name);',
      'export const body: Promise<string | undefined> = client.receiveMessages({ queue: "orders", max: 16 }).then(({ messages }) => messages[0]?.body);',
      'export const code = (error: EdgeCmqError): string => error.code;',
      "",
    ].join("\n"),
  );
  try {
    const check = ts.createProgram([checkFile], {
      ...compilerOptions,
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
      types: [],
      noEmit: true,
      declaration: false,
      emitDeclarationOnly: false,
      skipLibCheck: false,
    });
    failOn(ts.getPreEmitDiagnostics(check), "declarations used on their own");
  } finally {
    rmSync(checkFile);
  }
}
