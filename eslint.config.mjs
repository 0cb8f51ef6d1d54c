import next from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

const config = [
  ...next,
  ...nextTs,
  {
    ignores: [".next*/**", "node_modules/**", "lib/generated/**", ".data/**", "test-results/**", "playwright-report/**", "bench/results/**", "next-env.d.ts"],
  },
  {
    // test helpers named use*() are vitest lifecycle helpers, not React hooks
    files: ["test/**/*.ts", "**/*.test.ts"],
    rules: { "react-hooks/rules-of-hooks": "off" },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // SQL lives in lib/db: statements in lib/db/sql/<area>.ts, infrastructure (pools, migrations,
    // transactions, imports) beside them. Elsewhere code calls those functions or Prisma Client, and
    // neither runs a statement nor holds SQL text (docs/architecture.md "Data access").
    files: ["lib/**/*.ts", "lib/**/*.tsx", "app/**/*.ts", "app/**/*.tsx", "components/**/*.ts", "components/**/*.tsx"],
    ignores: ["lib/db/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: "CallExpression[callee.property.name='query']", message: "Run SQL through a function of lib/db/sql/<area>.ts (or Prisma Client), not .query() here." },
        { selector: "CallExpression[callee.name='query']", message: "Run SQL through a function of lib/db/sql/<area>.ts (or Prisma Client), not query() here." },
        { selector: "MemberExpression[property.name=/^\\$(query|execute)Raw(Unsafe)?$/]", message: "Raw SQL through Prisma belongs in lib/db/sql/<area>.ts." },
        { selector: "Literal[value=/\\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|FOR UPDATE)\\s/]", message: "SQL text belongs in lib/db/sql/<area>.ts." },
        { selector: "TemplateElement[value.raw=/\\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|FOR UPDATE)\\s/]", message: "SQL text belongs in lib/db/sql/<area>.ts." },
      ],
    },
  },
];

export default config;
