/* GenAI message-list JSON text -> "already in the normalized shape?", without building Python objects.
 *
 * Contract (collector/decode/_msgscan.pyi; collector.decode.messages._canonical_messages over
 * orjson.loads is the reference, and decides whenever this module is not sure):
 *
 *   scan_messages(text: str) -> int
 *     0 (NOT_SURE), or CANONICAL | HAS_SYSTEM? | MAY_REASON?
 *
 * CANONICAL is an accept-only verdict: the text (after leading whitespace as str.lstrip removes
 * it) is one valid JSON document that orjson parses, and the parsed value is a non-empty list that
 * _canonical_messages accepts, with its has_system / may_reason flags. Anything else is NOT_SURE,
 * including much that is canonical: escapes in the keys of message or part objects or in the role
 * and type values, a repeated key the check reads (role, parts, type, content, name, response),
 * nesting deeper than MAX_DEPTH, numbers that might not fit a double, lone surrogates (escaped or
 * in the str). The JSON syntax of the whole text is validated at least as strictly as orjson does
 * (RFC 8259: no trailing commas, leading zeros, NaN / Infinity, control characters in strings,
 * invalid escapes, content after the document), because an accepted text is stored as sent.
 *
 * The part rules must equal collector.decode.messages._RENAMED_PARTS / _REQUIRED_KEY; the module
 * exports them (RENAMED_PARTS, REQUIRED_KEY) so that a test can hold the two copies together.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "msgscan.h" /* the scanner: scan(), init_tables() and the part rules */

static PyObject *scan_messages(PyObject *self, PyObject *arg) {
    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "scan_messages() expects a str");
        return NULL;
    }
    Py_ssize_t n;
    const char *text = PyUnicode_AsUTF8AndSize(arg, &n);
    if (text == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return NULL;
        PyErr_Clear(); /* lone surrogates: orjson refuses the str */
        return PyLong_FromLong(NOT_SURE);
    }
    return PyLong_FromLong(scan((const uint8_t *)text, n));
}

static PyMethodDef methods[] = {
    {"scan_messages", scan_messages, METH_O,
     "scan_messages(text) -> 0 (not sure) or CANONICAL | HAS_SYSTEM | MAY_REASON: see "
     "collector/decode/_msgscan.pyi."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "collector.decode._msgscan",
    "Is a GenAI message list's JSON text in the normalized shape already? (see "
    "collector/decode/messages.py)",
    -1, methods, NULL, NULL, NULL, NULL,
};

/* The part rules as Python values (RENAMED_PARTS, REQUIRED_KEY), for the test that holds them
 * equal to collector.decode.messages'. */
static int add_rules(PyObject *m) {
    PyObject *renamed = PyTuple_New(COUNT(RENAMED)), *required = PyDict_New();
    if (renamed == NULL || required == NULL) goto error;
    for (Py_ssize_t i = 0; i < COUNT(RENAMED); i++) {
        PyObject *name = PyUnicode_FromString(RENAMED[i]);
        if (name == NULL) goto error;
        PyTuple_SET_ITEM(renamed, i, name);
    }
    for (Py_ssize_t i = 0; i < COUNT(REQUIRED); i++) {
        PyObject *key = PyUnicode_FromString(REQUIRED[i].key);
        int rc = key == NULL ? -1 : PyDict_SetItemString(required, REQUIRED[i].type, key);
        Py_XDECREF(key);
        if (rc < 0) goto error;
    }
    if (PyModule_AddObject(m, "RENAMED_PARTS", renamed) < 0) goto error;
    renamed = NULL;
    if (PyModule_AddObject(m, "REQUIRED_KEY", required) < 0) goto error;
    return 0;
error:
    Py_XDECREF(renamed);
    Py_XDECREF(required);
    return -1;
}

PyMODINIT_FUNC PyInit__msgscan(void) {
    init_tables();
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "NOT_SURE", NOT_SURE) < 0 ||
        PyModule_AddIntConstant(m, "CANONICAL", CANONICAL) < 0 ||
        PyModule_AddIntConstant(m, "HAS_SYSTEM", HAS_SYSTEM) < 0 ||
        PyModule_AddIntConstant(m, "MAY_REASON", MAY_REASON) < 0 || add_rules(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
