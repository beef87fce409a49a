// Where the client's modules are, for the tests (they import the served files).
export const JS = new URL("../../../server/snaketron/web/static/js/", import.meta.url).href;
