// The Worker's programs (the root tsconfig.json) have no Node globals. Some packages the tests use
// reference Node's types (`/// <reference types="node" />` in the AWS SDK's declarations); the
// root tsconfig's typeRoots resolves that name here, to nothing, rather than to the @types/node
// that packages/cli installs for its own program (packages/cli/tsconfig.json).
export {};
