/* Python lists -> Arrow column buffers, for the decoder's tables.
 *
 * Contract (collector/decode/_columns.pyi; ``pyarrow.array(values, type)`` is the reference, and
 * collector/decode/columns.py falls back to it whenever this module raises):
 *
 *   strings(values: list) -> (validity: bytes | None, offsets: bytes, data: bytes, null_count: int)
 *     The buffers of an Arrow ``string`` array: items are str (subclasses too) or None; a str is
 *     stored as its UTF-8 (PyUnicode_AsUTF8AndSize); offsets are int32. TypeError for any other
 *     item, OverflowError past 2**31 - 1 bytes of text, UnicodeEncodeError for lone surrogates.
 *
 *   integers(values: list, width: int) -> (validity: bytes | None, data: bytes, null_count: int)
 *     The buffers of an Arrow int8 / int32 / int64 array (width 1, 4 or 8 bytes): items are int
 *     (not bool, which pyarrow treats by its own rules) or None, stored in the machine's byte
 *     order as Arrow does. TypeError for any other item, OverflowError for a value out of range.
 *
 * validity is None when nothing is null, else Arrow's bitmap (bit i, least significant first, set
 * when item i is not null). A null's slot holds 0 / an empty string.
 *
 *   scatter(rows: list[dict[str, Any]], columns: dict[str, list]) -> None
 *     columns[key][i] = value for every key, value of rows[i]: sparse rows into column lists made
 *     long enough beforehand. KeyError for a key without a column, IndexError for a list too
 *     short, TypeError when an argument is not of these types; columns already set stay set.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* A fresh bitmap for n items with every bit set; bits are cleared for nulls as they are met. */
static PyObject *new_validity(Py_ssize_t n) {
    PyObject *bits = PyBytes_FromStringAndSize(NULL, (n + 7) / 8);
    if (bits != NULL) memset(PyBytes_AS_STRING(bits), 0xff, (size_t)((n + 7) / 8));
    return bits;
}

static void clear_bit(PyObject *bits, Py_ssize_t i) {
    ((uint8_t *)PyBytes_AS_STRING(bits))[i >> 3] &= (uint8_t) ~(1u << (i & 7));
}

static PyObject *result(PyObject *validity, Py_ssize_t nulls, PyObject *a, PyObject *b) {
    if (nulls == 0) {
        Py_XDECREF(validity);
        validity = Py_NewRef(Py_None);
    }
    return b == NULL ? Py_BuildValue("(NNn)", validity, a, nulls) : Py_BuildValue("(NNNn)", validity, a, b, nulls);
}

static PyObject *strings(PyObject *self, PyObject *values) {
    (void)self;
    if (!PyList_Check(values)) {
        PyErr_SetString(PyExc_TypeError, "strings() expects a list");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(values);
    PyObject *validity = NULL;
    PyObject *offsets = PyBytes_FromStringAndSize(NULL, (n + 1) * (Py_ssize_t)sizeof(int32_t));
    Py_ssize_t capacity = n * 32 + 64; /* grown by doubling: one pass over the items */
    PyObject *data = PyBytes_FromStringAndSize(NULL, capacity);
    if (offsets == NULL || data == NULL) goto error;
    int32_t *off = (int32_t *)PyBytes_AS_STRING(offsets);
    Py_ssize_t nulls = 0, at = 0;
    off[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyList_GET_ITEM(values, i);
        if (v == Py_None) {
            if (validity == NULL && (validity = new_validity(n)) == NULL) goto error;
            clear_bit(validity, i);
            nulls++;
        } else if (PyUnicode_Check(v)) {
            Py_ssize_t size;
            const char *text = PyUnicode_AsUTF8AndSize(v, &size);
            if (text == NULL) goto error;
            if (size > INT32_MAX - at) {
                PyErr_SetString(PyExc_OverflowError, "strings(): more than 2**31 - 1 bytes of text");
                goto error;
            }
            if (at + size > capacity) {
                while (at + size > capacity) capacity *= 2;
                if (_PyBytes_Resize(&data, capacity) < 0) goto error; /* frees data on failure */
            }
            memcpy(PyBytes_AS_STRING(data) + at, text, (size_t)size);
            at += size;
        } else {
            PyErr_Format(PyExc_TypeError, "strings(): item %zd is %.100s, not str", i, Py_TYPE(v)->tp_name);
            goto error;
        }
        off[i + 1] = (int32_t)at;
    }
    if (_PyBytes_Resize(&data, at) < 0) goto error;
    return result(validity, nulls, offsets, data);
error:
    Py_XDECREF(validity);
    Py_XDECREF(offsets);
    Py_XDECREF(data);
    return NULL;
}

static PyObject *integers(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *values;
    int width;
    if (!PyArg_ParseTuple(args, "O!i:integers", &PyList_Type, &values, &width)) return NULL;
    if (width != 1 && width != 4 && width != 8) {
        PyErr_SetString(PyExc_ValueError, "integers(): width must be 1, 4 or 8");
        return NULL;
    }
    int64_t lo = width == 1 ? INT8_MIN : width == 4 ? INT32_MIN : INT64_MIN;
    int64_t hi = width == 1 ? INT8_MAX : width == 4 ? INT32_MAX : INT64_MAX;
    Py_ssize_t n = PyList_GET_SIZE(values);
    PyObject *validity = NULL;
    PyObject *data = PyBytes_FromStringAndSize(NULL, n * width);
    if (data == NULL) return NULL;
    char *out = PyBytes_AS_STRING(data);
    Py_ssize_t nulls = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyList_GET_ITEM(values, i);
        int64_t x = 0;
        if (v == Py_None) {
            if (validity == NULL && (validity = new_validity(n)) == NULL) goto error;
            clear_bit(validity, i);
            nulls++;
        } else if (PyLong_Check(v) && !PyBool_Check(v)) {
            int overflow;
            long long got = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (got == -1 && PyErr_Occurred()) goto error;
            if (overflow || got < lo || got > hi) {
                PyErr_Format(PyExc_OverflowError, "integers(): item %zd does not fit %d bytes", i, width);
                goto error;
            }
            x = (int64_t)got;
        } else {
            PyErr_Format(PyExc_TypeError, "integers(): item %zd is %.100s, not int", i, Py_TYPE(v)->tp_name);
            goto error;
        }
        if (width == 8) {
            memcpy(out + i * 8, &x, 8);
        } else if (width == 4) {
            int32_t y = (int32_t)x;
            memcpy(out + i * 4, &y, 4);
        } else {
            out[i] = (char)(int8_t)x;
        }
    }
    return result(validity, nulls, data, NULL);
error:
    Py_XDECREF(validity);
    Py_DECREF(data);
    return NULL;
}

static PyObject *scatter(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *rows, *columns;
    if (!PyArg_ParseTuple(args, "O!O!:scatter", &PyList_Type, &rows, &PyDict_Type, &columns)) return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyDict_Check(row)) {
            PyErr_Format(PyExc_TypeError, "scatter(): row %zd is %.100s, not dict", i, Py_TYPE(row)->tp_name);
            return NULL;
        }
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(row, &pos, &key, &value)) {
            PyObject *column = PyDict_GetItemWithError(columns, key); /* borrowed */
            if (column == NULL) {
                if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, key);
                return NULL;
            }
            if (!PyList_Check(column)) {
                PyErr_SetString(PyExc_TypeError, "scatter(): a column is not a list");
                return NULL;
            }
            if (i >= PyList_GET_SIZE(column)) {
                PyErr_Format(PyExc_IndexError, "scatter(): column %R is shorter than row %zd", key, i);
                return NULL;
            }
            Py_INCREF(value);
            PyList_SetItem(column, i, value); /* steals value, releases the old item */
        }
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"strings", strings, METH_O, "Arrow string array buffers of a list of str / None."},
    {"integers", integers, METH_VARARGS, "Arrow int8/int32/int64 array buffers of a list of int / None."},
    {"scatter", scatter, METH_VARARGS, "Sparse rows (dicts) into column lists."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "collector.decode._columns",
    "Python lists to Arrow column buffers (see collector/decode/columns.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__columns(void) { return PyModule_Create(&module); }
