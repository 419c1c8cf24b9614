/* The trace decoder's per-span loop over walked spans, for the spans it is sure about.
 *
 * Contract (collector/decode/_spans.pyi; the reference is the per-span body of
 * collector.decode.traces.decode_resources, which handles every span this module leaves to it):
 *
 *   decode_spans(spans, start, out, norms, fast, move, moved, dumps) -> (index, fast_refused)
 *     spans:  list of walked span tuples (collector.decode.walk: trace_id, span_id, parent_span_id,
 *             trace_state, name, kind, start, end, status_code, status_message, attributes,
 *             events, links)
 *     out:    tuple of 13 lists, appended to per span: trace_id (hex), span_id (hex),
 *             parent_span_id (hex or None), trace_state (or None), name, kind, start_ns, end_ns,
 *             duration_ns, status_code, status_message (or None), attributes_in_columns,
 *             attributes_rest
 *     norms:  list, appended to per span: its normalized columns (the dict fast returned)
 *     fast:   normalize._fast_normalize; move: _genai.move_verbatim with its ``moved`` spec;
 *     dumps:  values.dumps
 *   Decodes spans[start:] in order as the reference does, and stops at the first span it leaves
 *   to the caller, appending nothing for it: ids of the wrong length or all zero, events or links,
 *   values not of the walked types, a time below zero, or fast() answering None or raising (then
 *   fast_refused is True and the exception is cleared: the caller's Python path decides). Returns
 *   (that span's index, fast_refused), or (len(spans), False) when all are done. An exception
 *   from move or dumps propagates, as in the reference.
 *
 * Clamps as the reference: times past int64 become its maximum, kind and status code outside
 * 0..127 become 0, duration is end - start when end > start, else 0.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum {
    OUT_TRACE,
    OUT_SPAN,
    OUT_PARENT,
    OUT_STATE,
    OUT_NAME,
    OUT_KIND,
    OUT_START,
    OUT_END,
    OUT_DURATION,
    OUT_CODE,
    OUT_MESSAGE,
    OUT_MOVED,
    OUT_ATTRIBUTES,
    OUT_COLUMNS
};

static PyObject *empty_json; /* "{}" */

static int all_zero(const char *p, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static PyObject *hex(PyObject *id) {
    static const char digits[] = "0123456789abcdef";
    Py_ssize_t n = PyBytes_GET_SIZE(id);
    const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(id);
    PyObject *o = PyUnicode_New(2 * n, 127);
    if (o == NULL) return NULL;
    char *out = (char *)PyUnicode_DATA(o);
    for (Py_ssize_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    return o;
}

/* The int64 value of a walked time (uint64 as sent), clamped to int64's maximum; -1 when it is
 * not an int or is negative (the caller's path decides). */
static int read_time(PyObject *v, int64_t *out) {
    if (!PyLong_Check(v)) return -1;
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred()) return -1;
    if (overflow > 0) x = INT64_MAX;
    if (overflow < 0 || x < 0) return -1;
    *out = x;
    return 0;
}

/* An enum value (kind, status code) as stored: itself when in 0..127, else 0; -1 for a non-int. */
static int read_enum(PyObject *v, long *out) {
    if (!PyLong_Check(v)) return -1;
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred()) return -1;
    *out = (!overflow && x >= 0 && x <= 127) ? (long)x : 0;
    return 0;
}

static PyObject *text_or_none(PyObject *s) {
    return Py_NewRef(PyUnicode_GET_LENGTH(s) ? s : Py_None);
}

static PyObject *stop(Py_ssize_t index, int fast_refused) {
    return Py_BuildValue("(nO)", index, fast_refused ? Py_True : Py_False);
}

static PyObject *decode_spans(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *spans, *out, *norms, *fast, *move, *moved, *dumps;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "O!nO!O!OOOO:decode_spans", &PyList_Type, &spans, &start, &PyTuple_Type, &out,
                          &PyList_Type, &norms, &fast, &move, &moved, &dumps))
        return NULL;
    if (PyTuple_GET_SIZE(out) != OUT_COLUMNS) {
        PyErr_SetString(PyExc_ValueError, "decode_spans(): out must hold 13 lists");
        return NULL;
    }
    PyObject *lists[OUT_COLUMNS];
    for (int c = 0; c < OUT_COLUMNS; c++) {
        lists[c] = PyTuple_GET_ITEM(out, c);
        if (!PyList_Check(lists[c])) {
            PyErr_SetString(PyExc_TypeError, "decode_spans(): out must hold lists");
            return NULL;
        }
    }
    Py_ssize_t n = PyList_GET_SIZE(spans);
    for (Py_ssize_t i = start < 0 ? 0 : start; i < n; i++) {
        PyObject *span = PyList_GET_ITEM(spans, i);
        if (!PyTuple_Check(span) || PyTuple_GET_SIZE(span) != 13) return stop(i, 0);
        PyObject *trace_id = PyTuple_GET_ITEM(span, 0), *span_id = PyTuple_GET_ITEM(span, 1);
        PyObject *parent_id = PyTuple_GET_ITEM(span, 2), *state = PyTuple_GET_ITEM(span, 3);
        PyObject *name = PyTuple_GET_ITEM(span, 4), *message = PyTuple_GET_ITEM(span, 9);
        PyObject *attrs = PyTuple_GET_ITEM(span, 10);
        if (!PyBytes_Check(trace_id) || !PyBytes_Check(span_id) || !PyBytes_Check(parent_id) ||
            !PyUnicode_CheckExact(state) || !PyUnicode_CheckExact(name) || !PyUnicode_CheckExact(message) ||
            !PyDict_CheckExact(attrs) || PyTuple_GET_ITEM(span, 11) != Py_None ||
            PyTuple_GET_ITEM(span, 12) != Py_None)
            return stop(i, 0);
        Py_ssize_t parent_len = PyBytes_GET_SIZE(parent_id);
        if (PyBytes_GET_SIZE(trace_id) != 16 || all_zero(PyBytes_AS_STRING(trace_id), 16) ||
            PyBytes_GET_SIZE(span_id) != 8 || all_zero(PyBytes_AS_STRING(span_id), 8) ||
            (parent_len != 0 && parent_len != 8))
            return stop(i, 0);
        int64_t t0, t1;
        long kind, code;
        if (read_time(PyTuple_GET_ITEM(span, 6), &t0) < 0 || read_time(PyTuple_GET_ITEM(span, 7), &t1) < 0 ||
            read_enum(PyTuple_GET_ITEM(span, 5), &kind) < 0 || read_enum(PyTuple_GET_ITEM(span, 8), &code) < 0) {
            PyErr_Clear();
            return stop(i, 0);
        }

        PyObject *norm = PyObject_CallFunctionObjArgs(fast, attrs, name, NULL);
        if (norm == NULL || !PyDict_CheckExact(norm)) {
            Py_XDECREF(norm);
            if (PyErr_Occurred()) {
                if (!PyErr_ExceptionMatches(PyExc_Exception)) return NULL; /* e.g. KeyboardInterrupt */
                PyErr_Clear();
            }
            return stop(i, 1);
        }
        PyObject *values[OUT_COLUMNS] = {NULL};
        if (PyDict_GET_SIZE(norm) == 0) {
            values[OUT_MOVED] = Py_NewRef(Py_None);
        } else {
            values[OUT_MOVED] = PyObject_CallFunctionObjArgs(move, attrs, norm, moved, NULL);
        }
        if (values[OUT_MOVED] == NULL) goto error;
        values[OUT_ATTRIBUTES] =
            PyDict_GET_SIZE(attrs) ? PyObject_CallOneArg(dumps, attrs) : Py_NewRef(empty_json);
        if (values[OUT_ATTRIBUTES] == NULL) goto error;
        values[OUT_TRACE] = hex(trace_id);
        values[OUT_SPAN] = hex(span_id);
        values[OUT_PARENT] = (parent_len == 8 && !all_zero(PyBytes_AS_STRING(parent_id), 8)) ? hex(parent_id)
                                                                                             : Py_NewRef(Py_None);
        values[OUT_STATE] = text_or_none(state);
        values[OUT_NAME] = Py_NewRef(name);
        values[OUT_KIND] = PyLong_FromLong(kind);
        values[OUT_START] = PyLong_FromLongLong(t0);
        values[OUT_END] = PyLong_FromLongLong(t1);
        values[OUT_DURATION] = PyLong_FromLongLong(t1 > t0 ? t1 - t0 : 0);
        values[OUT_CODE] = PyLong_FromLong(code);
        values[OUT_MESSAGE] = text_or_none(message);
        for (int c = 0; c < OUT_COLUMNS; c++)
            if (values[c] == NULL) goto error;
        for (int c = 0; c < OUT_COLUMNS; c++) {
            int rc = PyList_Append(lists[c], values[c]);
            Py_DECREF(values[c]);
            values[c] = NULL;
            if (rc < 0) goto error;
        }
        int rc = PyList_Append(norms, norm);
        Py_DECREF(norm);
        if (rc < 0) return NULL;
        continue;
    error:
        for (int c = 0; c < OUT_COLUMNS; c++) Py_XDECREF(values[c]);
        Py_DECREF(norm);
        return NULL;
    }
    return stop(n, 0);
}

static PyMethodDef methods[] = {
    {"decode_spans", decode_spans, METH_VARARGS,
     "decode_spans(spans, start, out, norms, fast, move, moved, dumps) -> (index, fast_refused): see "
     "collector/decode/_spans.pyi."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "collector.decode._spans",
    "The trace decoder's per-span loop (see collector/decode/traces.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__spans(void) {
    empty_json = PyUnicode_InternFromString("{}");
    if (empty_json == NULL) return NULL;
    return PyModule_Create(&module);
}
