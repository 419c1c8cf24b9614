/* OTLP ExportTraceServiceRequest protobuf bytes -> plain Python values, without building protobuf
 * message objects.
 *
 * Contract (collector/decode/_wire.pyi; collector/decode/walk.py is the reference implementation
 * over parsed messages and must return exactly the same values):
 *
 *   walk_traces(body: bytes) -> list[resource]
 *     resource = (resource_attributes: dict, scopes: list[scope])
 *     scope    = (name: str, version: str, spans: list[span])
 *     span     = (trace_id: bytes, span_id: bytes, parent_span_id: bytes, trace_state: str,
 *                 name: str, kind: int, start_time_unix_nano: int, end_time_unix_nano: int,
 *                 status_code: int, status_message: str, attributes: dict,
 *                 events: list[(time_unix_nano: int, name: str, attributes: dict)] | None,
 *                 links: list[(trace_id: bytes, span_id: bytes, trace_state: str,
 *                              attributes: dict)] | None)
 *
 * Attribute values follow collector.decode.values.any_value: string, bool, int (int64), float
 * (non-finite doubles as "NaN" / "Infinity" / "-Infinity"), list (array_value), dict
 * (kvlist_value, a repeated key keeps its last value), standard base64 text (bytes_value), None
 * (unset). Protobuf merge rules hold: a repeated occurrence of a singular field replaces a scalar
 * and merges a message; a known field number with an unexpected wire type is skipped as unknown.
 *
 * Raises ValueError for anything that is not a well-formed request (truncated data, bad varints,
 * invalid UTF-8 in a string field, nesting deeper than MAX_DEPTH, groups). It may refuse some
 * requests the protobuf library accepts (groups in unknown fields, very deep nesting): callers
 * then fall back to the library, which decides.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 48

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} Buf;

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static int fail(const char *what) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, what);
    return -1;
}

static int read_varint(Buf *b, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (b->p >= b->end) return fail("truncated varint");
        uint8_t byte = *b->p++;
        if (shift == 63 && byte > 1) return fail("varint overflows 64 bits");
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return fail("varint longer than 10 bytes");
}

static int read_tag(Buf *b, uint32_t *field, int *wt) {
    uint64_t tag;
    if (read_varint(b, &tag) < 0) return -1;
    if (tag > UINT32_MAX) return fail("tag out of range");
    *field = (uint32_t)(tag >> 3);
    *wt = (int)(tag & 7);
    if (*field == 0) return fail("field number 0");
    return 0;
}

static int read_fixed64(Buf *b, uint64_t *out) {
    if (b->end - b->p < 8) return fail("truncated fixed64");
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b->p[i];
    b->p += 8;
    *out = v;
    return 0;
}

static int read_len(Buf *b, Buf *sub) {
    uint64_t n;
    if (read_varint(b, &n) < 0) return -1;
    if (n > (uint64_t)(b->end - b->p)) return fail("length-delimited field runs past its message");
    sub->p = b->p;
    sub->end = b->p + n;
    b->p += n;
    return 0;
}

static int skip(Buf *b, int wt) {
    uint64_t v;
    Buf sub;
    switch (wt) {
        case WT_VARINT:
            return read_varint(b, &v);
        case WT_I64:
            if (b->end - b->p < 8) return fail("truncated fixed64");
            b->p += 8;
            return 0;
        case WT_LEN:
            return read_len(b, &sub);
        case WT_I32:
            if (b->end - b->p < 4) return fail("truncated fixed32");
            b->p += 4;
            return 0;
        default:
            return fail("unsupported wire type");
    }
}

/* A new str from UTF-8 bytes; invalid UTF-8 is a malformed request (proto3 strings). */
static PyObject *utf8(Buf s) {
    PyObject *o = PyUnicode_DecodeUTF8((const char *)s.p, s.end - s.p, NULL);
    if (o == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "invalid UTF-8 in a string field");
    }
    return o;
}

/* A string field the decoder does not keep: valid UTF-8, or the request is malformed. */
static int check_utf8(Buf s) {
    PyObject *checked = utf8(s);
    if (checked == NULL) return -1;
    Py_DECREF(checked);
    return 0;
}

static PyObject *raw_bytes(Buf s) { return PyBytes_FromStringAndSize((const char *)s.p, s.end - s.p); }

/* Replace *slot by value (a new reference, may be NULL on error). */
static int set_slot(PyObject **slot, PyObject *value) {
    if (value == NULL) return -1;
    Py_XSETREF(*slot, value);
    return 0;
}

/* Attribute keys repeat in every span: a small cache maps their bytes to one str. */
#define KEY_CACHE_SIZE 1024
#define KEY_CACHE_MAX_LEN 96
typedef struct {
    uint32_t hash;
    Py_ssize_t len;
    char bytes[KEY_CACHE_MAX_LEN];
    PyObject *str;
} KeyEntry;
static KeyEntry key_cache[KEY_CACHE_SIZE];

static PyObject *key_str(Buf s) {
    Py_ssize_t n = s.end - s.p;
    if (n > KEY_CACHE_MAX_LEN) return utf8(s);
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ s.p[i]) * 16777619u;
    KeyEntry *e = &key_cache[h % KEY_CACHE_SIZE];
    if (e->str != NULL && e->hash == h && e->len == n && memcmp(e->bytes, s.p, n) == 0) {
        Py_INCREF(e->str);
        return e->str;
    }
    PyObject *o = utf8(s);
    if (o == NULL) return NULL;
    Py_XDECREF(e->str);
    e->hash = h;
    e->len = n;
    memcpy(e->bytes, s.p, n);
    Py_INCREF(o);
    e->str = o;
    return o;
}

static PyObject *base64_str(Buf s) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    Py_ssize_t n = s.end - s.p;
    Py_ssize_t out_len = ((n + 2) / 3) * 4;
    PyObject *o = PyUnicode_New(out_len, 127);
    if (o == NULL) return NULL;
    char *out = (char *)PyUnicode_DATA(o);
    const uint8_t *p = s.p;
    Py_ssize_t i = 0, j = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
        out[j++] = alphabet[(v >> 18) & 63];
        out[j++] = alphabet[(v >> 12) & 63];
        out[j++] = alphabet[(v >> 6) & 63];
        out[j++] = alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        out[j++] = alphabet[(v >> 18) & 63];
        out[j++] = alphabet[(v >> 12) & 63];
        out[j++] = (i + 1 < n) ? alphabet[(v >> 6) & 63] : '=';
        out[j++] = '=';
    }
    return o;
}

static PyObject *double_value(uint64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    if (isnan(d)) return PyUnicode_FromString("NaN");
    if (isinf(d)) return PyUnicode_FromString(d > 0 ? "Infinity" : "-Infinity");
    return PyFloat_FromDouble(d);
}

/* ---- AnyValue / KeyValue ------------------------------------------------------------------- */

enum { AV_NONE = 0, AV_STRING = 1, AV_BOOL, AV_INT, AV_DOUBLE, AV_ARRAY, AV_KVLIST, AV_BYTES, AV_OTHER };

typedef struct {
    int kind;
    PyObject *obj; /* owned; NULL while kind == AV_NONE */
} AnyState;

static int parse_any(Buf b, AnyState *st, int depth);
static int parse_kvs_into(Buf b, PyObject *dict, int depth);

static int parse_array_into(Buf b, PyObject *list, int depth) {
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        if (read_tag(&b, &field, &wt) < 0) return -1;
        if (field == 1 && wt == WT_LEN) {
            Buf sub;
            if (read_len(&b, &sub) < 0) return -1;
            AnyState item = {AV_NONE, NULL};
            if (parse_any(sub, &item, depth + 1) < 0) {
                Py_XDECREF(item.obj);
                return -1;
            }
            PyObject *value = item.obj ? item.obj : Py_NewRef(Py_None);
            int rc = PyList_Append(list, value);
            Py_DECREF(value);
            if (rc < 0) return -1;
        } else if (skip(&b, wt) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Start (or continue, for a repeated occurrence of the same message case) the oneof's value. */
static PyObject *container(AnyState *st, int kind) {
    if (st->kind != kind) {
        PyObject *fresh = kind == AV_ARRAY ? PyList_New(0) : PyDict_New();
        if (fresh == NULL) return NULL;
        Py_XSETREF(st->obj, fresh);
        st->kind = kind;
    }
    return st->obj;
}

static int parse_any(Buf b, AnyState *st, int depth) {
    if (depth > MAX_DEPTH) return fail("attribute values nested too deeply");
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        uint64_t v;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) return -1;
        switch (field) {
            case 1:
                if (wt != WT_LEN) break;
                if (read_len(&b, &sub) < 0 || set_slot(&st->obj, utf8(sub)) < 0) return -1;
                st->kind = AV_STRING;
                continue;
            case 2:
                if (wt != WT_VARINT) break;
                if (read_varint(&b, &v) < 0) return -1;
                Py_XSETREF(st->obj, PyBool_FromLong(v != 0));
                st->kind = AV_BOOL;
                continue;
            case 3:
                if (wt != WT_VARINT) break;
                if (read_varint(&b, &v) < 0 || set_slot(&st->obj, PyLong_FromLongLong((int64_t)v)) < 0)
                    return -1;
                st->kind = AV_INT;
                continue;
            case 4:
                if (wt != WT_I64) break;
                if (read_fixed64(&b, &v) < 0 || set_slot(&st->obj, double_value(v)) < 0) return -1;
                st->kind = AV_DOUBLE;
                continue;
            case 5: {
                if (wt != WT_LEN) break;
                if (read_len(&b, &sub) < 0) return -1;
                PyObject *list = container(st, AV_ARRAY);
                if (list == NULL || parse_array_into(sub, list, depth + 1) < 0) return -1;
                continue;
            }
            case 6: {
                if (wt != WT_LEN) break;
                if (read_len(&b, &sub) < 0) return -1;
                PyObject *dict = container(st, AV_KVLIST);
                if (dict == NULL || parse_kvs_into(sub, dict, depth + 1) < 0) return -1;
                continue;
            }
            case 7:
                if (wt != WT_LEN) break;
                if (read_len(&b, &sub) < 0 || set_slot(&st->obj, base64_str(sub)) < 0) return -1;
                st->kind = AV_BYTES;
                continue;
            case 8: /* string_value_strindex: a oneof member the decoder has no value for */
                if (wt != WT_VARINT) break;
                if (read_varint(&b, &v) < 0) return -1;
                Py_XSETREF(st->obj, Py_NewRef(Py_None));
                st->kind = AV_OTHER;
                continue;
            default:
                break;
        }
        if (skip(&b, wt) < 0) return -1;
    }
    return 0;
}

/* One KeyValue into dict[key] = value (the last occurrence of a key wins, as in a span's map). */
static int parse_kv_into(Buf b, PyObject *dict, int depth) {
    PyObject *key = NULL;
    AnyState value = {AV_NONE, NULL};
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) goto error;
        if (field == 1 && wt == WT_LEN) {
            if (read_len(&b, &sub) < 0 || set_slot(&key, key_str(sub)) < 0) goto error;
        } else if (field == 2 && wt == WT_LEN) {
            if (read_len(&b, &sub) < 0 || parse_any(sub, &value, depth + 1) < 0) goto error;
        } else if (skip(&b, wt) < 0) {
            goto error;
        }
    }
    if (key == NULL) key = PyUnicode_FromStringAndSize("", 0);
    if (key == NULL) goto error;
    int rc = PyDict_SetItem(dict, key, value.obj ? value.obj : Py_None);
    Py_DECREF(key);
    Py_XDECREF(value.obj);
    return rc;
error:
    Py_XDECREF(key);
    Py_XDECREF(value.obj);
    return -1;
}

/* The KeyValue entries of field 1 of ``b`` (KeyValueList) into ``dict``. */
static int parse_kvs_into(Buf b, PyObject *dict, int depth) {
    if (depth > MAX_DEPTH) return fail("attribute values nested too deeply");
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) return -1;
        if (field == 1 && wt == WT_LEN) {
            if (read_len(&b, &sub) < 0 || parse_kv_into(sub, dict, depth + 1) < 0) return -1;
        } else if (skip(&b, wt) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- spans --------------------------------------------------------------------------------- */

typedef struct {
    PyObject *trace_id, *span_id, *parent_id, *trace_state, *name, *attrs, *events, *links;
    PyObject *status_message;
    int32_t kind, status_code;
    uint64_t start, end;
} SpanAcc;

static int parse_status(Buf b, SpanAcc *s) {
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        uint64_t v;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) return -1;
        if (field == 2 && wt == WT_LEN) {
            if (read_len(&b, &sub) < 0 || set_slot(&s->status_message, utf8(sub)) < 0) return -1;
        } else if (field == 3 && wt == WT_VARINT) {
            if (read_varint(&b, &v) < 0) return -1;
            s->status_code = (int32_t)(uint32_t)v;
        } else if (skip(&b, wt) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *parse_event(Buf b) {
    uint64_t time = 0;
    PyObject *name = NULL, *attrs = PyDict_New();
    if (attrs == NULL) return NULL;
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) goto error;
        if (field == 1 && wt == WT_I64) {
            if (read_fixed64(&b, &time) < 0) goto error;
        } else if (field == 2 && wt == WT_LEN) {
            if (read_len(&b, &sub) < 0 || set_slot(&name, utf8(sub)) < 0) goto error;
        } else if (field == 3 && wt == WT_LEN) {
            if (read_len(&b, &sub) < 0 || parse_kv_into(sub, attrs, 4) < 0) goto error;
        } else if (skip(&b, wt) < 0) {
            goto error;
        }
    }
    if (name == NULL && (name = PyUnicode_FromStringAndSize("", 0)) == NULL) goto error;
    return Py_BuildValue("(KNN)", (unsigned long long)time, name, attrs);
error:
    Py_XDECREF(name);
    Py_DECREF(attrs);
    return NULL;
}

static PyObject *parse_link(Buf b) {
    PyObject *trace_id = NULL, *span_id = NULL, *state = NULL, *attrs = PyDict_New();
    if (attrs == NULL) return NULL;
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) goto error;
        if (wt == WT_LEN && field >= 1 && field <= 4) {
            if (read_len(&b, &sub) < 0) goto error;
            int rc = field == 1   ? set_slot(&trace_id, raw_bytes(sub))
                     : field == 2 ? set_slot(&span_id, raw_bytes(sub))
                     : field == 3 ? set_slot(&state, utf8(sub))
                                  : parse_kv_into(sub, attrs, 4);
            if (rc < 0) goto error;
        } else if (skip(&b, wt) < 0) {
            goto error;
        }
    }
    if (trace_id == NULL && (trace_id = PyBytes_FromStringAndSize("", 0)) == NULL) goto error;
    if (span_id == NULL && (span_id = PyBytes_FromStringAndSize("", 0)) == NULL) goto error;
    if (state == NULL && (state = PyUnicode_FromStringAndSize("", 0)) == NULL) goto error;
    return Py_BuildValue("(NNNN)", trace_id, span_id, state, attrs);
error:
    Py_XDECREF(trace_id);
    Py_XDECREF(span_id);
    Py_XDECREF(state);
    Py_DECREF(attrs);
    return NULL;
}

static int append_new(PyObject **list, PyObject *item) {
    if (item == NULL) return -1;
    if (*list == NULL && (*list = PyList_New(0)) == NULL) {
        Py_DECREF(item);
        return -1;
    }
    int rc = PyList_Append(*list, item);
    Py_DECREF(item);
    return rc;
}

static PyObject *empty_or(PyObject *o, int as_bytes) {
    if (o != NULL) return o;
    return as_bytes ? PyBytes_FromStringAndSize("", 0) : PyUnicode_FromStringAndSize("", 0);
}

static PyObject *parse_span(Buf b) {
    SpanAcc s;
    memset(&s, 0, sizeof s);
    if ((s.attrs = PyDict_New()) == NULL) return NULL;
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        uint64_t v;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) goto error;
        int rc = 0;
        if (wt == WT_LEN) {
            switch (field) {
                case 1: rc = read_len(&b, &sub) < 0 ? -1 : set_slot(&s.trace_id, raw_bytes(sub)); break;
                case 2: rc = read_len(&b, &sub) < 0 ? -1 : set_slot(&s.span_id, raw_bytes(sub)); break;
                case 3: rc = read_len(&b, &sub) < 0 ? -1 : set_slot(&s.trace_state, utf8(sub)); break;
                case 4: rc = read_len(&b, &sub) < 0 ? -1 : set_slot(&s.parent_id, raw_bytes(sub)); break;
                case 5: rc = read_len(&b, &sub) < 0 ? -1 : set_slot(&s.name, utf8(sub)); break;
                case 9: rc = read_len(&b, &sub) < 0 ? -1 : parse_kv_into(sub, s.attrs, 2); break;
                case 11: rc = read_len(&b, &sub) < 0 ? -1 : append_new(&s.events, parse_event(sub)); break;
                case 13: rc = read_len(&b, &sub) < 0 ? -1 : append_new(&s.links, parse_link(sub)); break;
                case 15: rc = read_len(&b, &sub) < 0 ? -1 : parse_status(sub, &s); break;
                default: rc = skip(&b, wt); break;
            }
        } else if (wt == WT_VARINT && field == 6) {
            rc = read_varint(&b, &v);
            s.kind = (int32_t)(uint32_t)v;
        } else if (wt == WT_I64 && field == 7) {
            rc = read_fixed64(&b, &s.start);
        } else if (wt == WT_I64 && field == 8) {
            rc = read_fixed64(&b, &s.end);
        } else {
            rc = skip(&b, wt);
        }
        if (rc < 0) goto error;
    }
    if ((s.trace_id = empty_or(s.trace_id, 1)) == NULL || (s.span_id = empty_or(s.span_id, 1)) == NULL ||
        (s.parent_id = empty_or(s.parent_id, 1)) == NULL ||
        (s.trace_state = empty_or(s.trace_state, 0)) == NULL || (s.name = empty_or(s.name, 0)) == NULL ||
        (s.status_message = empty_or(s.status_message, 0)) == NULL)
        goto error;
    if (s.events == NULL) s.events = Py_NewRef(Py_None);
    if (s.links == NULL) s.links = Py_NewRef(Py_None);
    return Py_BuildValue("(NNNNNiKKiNNNN)", s.trace_id, s.span_id, s.parent_id, s.trace_state, s.name,
                         (int)s.kind, (unsigned long long)s.start, (unsigned long long)s.end,
                         (int)s.status_code, s.status_message, s.attrs, s.events, s.links);
error:
    Py_XDECREF(s.trace_id);
    Py_XDECREF(s.span_id);
    Py_XDECREF(s.parent_id);
    Py_XDECREF(s.trace_state);
    Py_XDECREF(s.name);
    Py_XDECREF(s.status_message);
    Py_XDECREF(s.attrs);
    Py_XDECREF(s.events);
    Py_XDECREF(s.links);
    return NULL;
}

/* ---- request structure --------------------------------------------------------------------- */

static int parse_scope(Buf b, PyObject **name, PyObject **version) {
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) return -1;
        if (wt == WT_LEN && (field == 1 || field == 2)) {
            if (read_len(&b, &sub) < 0 || set_slot(field == 1 ? name : version, utf8(sub)) < 0) return -1;
        } else if (wt == WT_LEN && field == 3) {
            /* scope attributes are not kept, but must be well-formed */
            PyObject *ignored = PyDict_New();
            if (ignored == NULL) return -1;
            int rc = read_len(&b, &sub) < 0 ? -1 : parse_kv_into(sub, ignored, 4);
            Py_DECREF(ignored);
            if (rc < 0) return -1;
        } else if (skip(&b, wt) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *parse_scope_spans(Buf b) {
    PyObject *name = NULL, *version = NULL, *spans = PyList_New(0);
    if (spans == NULL) return NULL;
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) goto error;
        if (wt == WT_LEN && field == 1) {
            if (read_len(&b, &sub) < 0 || parse_scope(sub, &name, &version) < 0) goto error;
        } else if (wt == WT_LEN && field == 2) {
            if (read_len(&b, &sub) < 0 || append_new(&spans, parse_span(sub)) < 0) goto error;
        } else if (wt == WT_LEN && field == 3) { /* schema_url */
            if (read_len(&b, &sub) < 0 || check_utf8(sub) < 0) goto error;
        } else if (skip(&b, wt) < 0) {
            goto error;
        }
    }
    if ((name = empty_or(name, 0)) == NULL || (version = empty_or(version, 0)) == NULL) goto error;
    return Py_BuildValue("(NNN)", name, version, spans);
error:
    Py_XDECREF(name);
    Py_XDECREF(version);
    Py_DECREF(spans);
    return NULL;
}

/* Every length-delimited field of ``b`` is a string (EntityRef): valid UTF-8 or malformed. */
static int check_strings(Buf b) {
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) return -1;
        if (wt == WT_LEN) {
            if (read_len(&b, &sub) < 0 || check_utf8(sub) < 0) return -1;
        } else if (skip(&b, wt) < 0) {
            return -1;
        }
    }
    return 0;
}

static int parse_resource(Buf b, PyObject *attrs) {
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) return -1;
        if (wt == WT_LEN && field == 1) {
            if (read_len(&b, &sub) < 0 || parse_kv_into(sub, attrs, 3) < 0) return -1;
        } else if (wt == WT_LEN && field == 3) { /* entity_refs */
            if (read_len(&b, &sub) < 0 || check_strings(sub) < 0) return -1;
        } else if (skip(&b, wt) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *parse_resource_spans(Buf b) {
    PyObject *attrs = PyDict_New(), *scopes = PyList_New(0);
    if (attrs == NULL || scopes == NULL) goto error;
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) goto error;
        if (wt == WT_LEN && field == 1) {
            if (read_len(&b, &sub) < 0 || parse_resource(sub, attrs) < 0) goto error;
        } else if (wt == WT_LEN && field == 2) {
            if (read_len(&b, &sub) < 0 || append_new(&scopes, parse_scope_spans(sub)) < 0) goto error;
        } else if (wt == WT_LEN && field == 3) { /* schema_url */
            if (read_len(&b, &sub) < 0 || check_utf8(sub) < 0) goto error;
        } else if (skip(&b, wt) < 0) {
            goto error;
        }
    }
    return Py_BuildValue("(NN)", attrs, scopes);
error:
    Py_XDECREF(attrs);
    Py_XDECREF(scopes);
    return NULL;
}

static PyObject *walk_traces(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    Buf b = {(const uint8_t *)view.buf, (const uint8_t *)view.buf + view.len};
    PyObject *out = PyList_New(0);
    if (out == NULL) goto done;
    while (b.p < b.end) {
        uint32_t field;
        int wt;
        Buf sub;
        if (read_tag(&b, &field, &wt) < 0) goto error;
        if (wt == WT_LEN && field == 1) {
            if (read_len(&b, &sub) < 0 || append_new(&out, parse_resource_spans(sub)) < 0) goto error;
        } else if (skip(&b, wt) < 0) {
            goto error;
        }
    }
    goto done;
error:
    Py_CLEAR(out);
done:
    PyBuffer_Release(&view);
    return out;
}

static PyMethodDef methods[] = {
    {"walk_traces", walk_traces, METH_O,
     "walk_traces(body) -> list of (resource attributes, scopes): see collector/decode/_wire.pyi."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "collector.decode._wire",
    "OTLP trace request bytes to plain Python values (see collector/decode/walk.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__wire(void) { return PyModule_Create(&module); }
