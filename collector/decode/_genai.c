/* normalize_span for the plain GenAI semconv span, in C: the common span's columns without the
 * Python walk through the convention modules.
 *
 * Contract (collector/decode/_genai.pyi; collector.decode.normalize.normalize_span is the reference,
 * and decides whenever this module is not sure):
 *
 *   fast_normalize(attrs: dict, name: str) -> dict | None
 *
 * A dict only when it equals normalize_span(attrs, name, ()) exactly: the same columns in the same
 * order, the same values of the same types (message columns are the attribute's str object, which
 * normalize_span stores for a list already in the normalized shape). None ("not sure") otherwise.
 * Accepted, and only so:
 *
 *   - attrs an exact dict, name an exact str, every key an exact str this module knows: a KEY_TABLE
 *     key listed in KEYS below, or one of IGNORED (keys no part of normalize_span reads, and no
 *     marker of another convention); one of the GenAI markers present (detect() -> "genai": the
 *     other conventions' markers are never known keys);
 *   - values: None (apply_key_table skips it); for as_text keys an exact str, kept as sent, or an
 *     exact int in int64 range (never bool), stored as its decimal text as dumps writes it; for
 *     as_int keys such an int, kept as sent; for the operation an exact str (non-strings convert
 *     to nothing); for the finish reasons an exact list of exact str that orjson writes verbatim
 *     between quotes (stored as the compact JSON array json_array makes); for gen_ai.input.messages /
 *     gen_ai.output.messages an exact str the message scanner (msgscan.h) calls canonical, input
 *     without a system message (system_fallback would read it) and output without possible
 *     reasoning (reasoning_of would read it); for IGNORED keys anything.
 *
 * What normalize_span does with such a span is reproduced step by step: apply_key_table's ranks
 * (the lowest rank wins whatever the order; a column keeps the position it was first set at), the
 * operation aliases, the operation from the span name's head when none is set, and agent_identity's
 * agent name from the span name after an agent operation.
 *
 * The tables below must equal collector.decode.genai's (KEY_TABLE, _OPERATION_ALIASES,
 * KNOWN_OPERATIONS, AGENT_OPERATIONS) and normalize._GENAI_MARKERS; the module exports them so that
 * tests/collector/test_normalize_fast.py can hold the copies together.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "msgscan.h" /* scan(), init_tables() */

/* The columns the fast path can set, in no particular order (the output follows the attributes'). */
enum {
    C_OPERATION,
    C_PROVIDER,
    C_REQUEST_MODEL,
    C_RESPONSE_MODEL,
    C_AGENT_NAME,
    C_AGENT_ID,
    C_CONVERSATION_ID,
    C_TOOL_NAME,
    C_TOOL_CALL_ID,
    C_TOOL_TYPE,
    C_TOOL_ARGUMENTS,
    C_TOOL_RESULT,
    C_INPUT_TOKENS,
    C_OUTPUT_TOKENS,
    C_CACHE_READ_TOKENS,
    C_CACHE_CREATION_TOKENS,
    C_REASONING_TOKENS,
    C_MEMORY_STORE_ID,
    C_MEMORY_RECORD_ID,
    C_MEMORY_RECORDS,
    C_MEMORY_VERSION,
    C_INPUT_MESSAGES,
    C_OUTPUT_MESSAGES,
    C_ERROR_TYPE,
    C_DB_SYSTEM,
    C_DB_OPERATION,
    C_DB_QUERY_TEXT,
    C_FINISH_REASONS,
    N_COLUMNS
};

static const char *const COLUMN_NAMES[N_COLUMNS] = {
    [C_OPERATION] = "operation",
    [C_PROVIDER] = "provider",
    [C_REQUEST_MODEL] = "request_model",
    [C_RESPONSE_MODEL] = "response_model",
    [C_AGENT_NAME] = "agent_name",
    [C_AGENT_ID] = "agent_id",
    [C_CONVERSATION_ID] = "conversation_id",
    [C_TOOL_NAME] = "tool_name",
    [C_TOOL_CALL_ID] = "tool_call_id",
    [C_TOOL_TYPE] = "tool_type",
    [C_TOOL_ARGUMENTS] = "tool_arguments",
    [C_TOOL_RESULT] = "tool_result",
    [C_INPUT_TOKENS] = "input_tokens",
    [C_OUTPUT_TOKENS] = "output_tokens",
    [C_CACHE_READ_TOKENS] = "cache_read_tokens",
    [C_CACHE_CREATION_TOKENS] = "cache_creation_tokens",
    [C_REASONING_TOKENS] = "reasoning_tokens",
    [C_MEMORY_STORE_ID] = "memory_store_id",
    [C_MEMORY_RECORD_ID] = "memory_record_id",
    [C_MEMORY_RECORDS] = "memory_records",
    [C_MEMORY_VERSION] = "memory_version",
    [C_INPUT_MESSAGES] = "input_messages",
    [C_OUTPUT_MESSAGES] = "output_messages",
    [C_ERROR_TYPE] = "error_type",
    [C_DB_SYSTEM] = "db_system",
    [C_DB_OPERATION] = "db_operation",
    [C_DB_QUERY_TEXT] = "db_query_text",
    [C_FINISH_REASONS] = "finish_reasons",
};

/* The converter KEY_TABLE names for a key, by the name the export uses. */
typedef enum { V_TEXT, V_INT, V_OPERATION, V_INPUT, V_OUTPUT, V_ARRAY } Convert;
static const char *const CONVERT_NAMES[] = {
    [V_TEXT] = "as_text",
    [V_INT] = "as_int",
    [V_OPERATION] = "_operation",
    [V_INPUT] = "_input_messages",
    [V_OUTPUT] = "_output_messages",
    [V_ARRAY] = "json_array",
};

typedef struct {
    const char *key;
    int column, rank;
    Convert convert;
    int marker; /* one of normalize._GENAI_MARKERS */
} KeySpec;

/* The KEY_TABLE entries the fast path reads: every as_text / as_int key, the operation, the
 * semconv message keys (their deprecated forms are left to Python: any other key means None) and
 * the finish reasons. */
static const KeySpec KEYS[] = {
    {"gen_ai.operation.name", C_OPERATION, 0, V_OPERATION, 1},
    {"gen_ai.provider.name", C_PROVIDER, 0, V_TEXT, 1},
    {"gen_ai.system", C_PROVIDER, 1, V_TEXT, 1},
    {"gen_ai.request.model", C_REQUEST_MODEL, 0, V_TEXT, 0},
    {"gen_ai.response.model", C_RESPONSE_MODEL, 0, V_TEXT, 0},
    {"gen_ai.agent.name", C_AGENT_NAME, 0, V_TEXT, 0},
    {"gen_ai.agent.id", C_AGENT_ID, 0, V_TEXT, 0},
    {"gen_ai.conversation.id", C_CONVERSATION_ID, 0, V_TEXT, 0},
    {"gen_ai.tool.name", C_TOOL_NAME, 0, V_TEXT, 0},
    {"gen_ai.tool.call.id", C_TOOL_CALL_ID, 0, V_TEXT, 0},
    {"gen_ai.tool.type", C_TOOL_TYPE, 0, V_TEXT, 0},
    {"gen_ai.tool.call.arguments", C_TOOL_ARGUMENTS, 0, V_TEXT, 0},
    {"gen_ai.tool.args", C_TOOL_ARGUMENTS, 1, V_TEXT, 0},
    {"gen_ai.tool.call.result", C_TOOL_RESULT, 0, V_TEXT, 0},
    {"gen_ai.usage.input_tokens", C_INPUT_TOKENS, 0, V_INT, 0},
    {"gen_ai.usage.prompt_tokens", C_INPUT_TOKENS, 1, V_INT, 0},
    {"gen_ai.usage.output_tokens", C_OUTPUT_TOKENS, 0, V_INT, 0},
    {"gen_ai.usage.completion_tokens", C_OUTPUT_TOKENS, 1, V_INT, 0},
    {"gen_ai.usage.cache_read.input_tokens", C_CACHE_READ_TOKENS, 0, V_INT, 0},
    {"gen_ai.usage.cache_read_input_tokens", C_CACHE_READ_TOKENS, 1, V_INT, 0},
    {"gen_ai.usage.cache_creation.input_tokens", C_CACHE_CREATION_TOKENS, 0, V_INT, 0},
    {"gen_ai.usage.cache_write.input_tokens", C_CACHE_CREATION_TOKENS, 1, V_INT, 0},
    {"gen_ai.usage.cache_creation_input_tokens", C_CACHE_CREATION_TOKENS, 2, V_INT, 0},
    {"gen_ai.usage.reasoning.output_tokens", C_REASONING_TOKENS, 0, V_INT, 0},
    {"gen_ai.usage.output_tokens.reasoning", C_REASONING_TOKENS, 1, V_INT, 0},
    {"gen_ai.usage.reasoning_tokens", C_REASONING_TOKENS, 2, V_INT, 0},
    {"gen_ai.memory.store.id", C_MEMORY_STORE_ID, 0, V_TEXT, 0},
    {"gen_ai.memory.record.id", C_MEMORY_RECORD_ID, 0, V_TEXT, 0},
    {"gen_ai.memory.records", C_MEMORY_RECORDS, 0, V_TEXT, 0},
    {"faultlens.memory.version", C_MEMORY_VERSION, 0, V_TEXT, 0},
    {"gen_ai.input.messages", C_INPUT_MESSAGES, 0, V_INPUT, 0},
    {"gen_ai.output.messages", C_OUTPUT_MESSAGES, 0, V_OUTPUT, 0},
    {"error.type", C_ERROR_TYPE, 0, V_TEXT, 0},
    {"db.system.name", C_DB_SYSTEM, 0, V_TEXT, 0},
    {"db.system", C_DB_SYSTEM, 1, V_TEXT, 0},
    {"db.operation.name", C_DB_OPERATION, 0, V_TEXT, 0},
    {"db.operation", C_DB_OPERATION, 1, V_TEXT, 0},
    {"db.query.text", C_DB_QUERY_TEXT, 0, V_TEXT, 0},
    {"db.statement", C_DB_QUERY_TEXT, 1, V_TEXT, 0},
    {"gen_ai.response.finish_reasons", C_FINISH_REASONS, 0, V_ARRAY, 0},
};

/* Keys semconv spans often carry that normalize_span never reads (nor detect(): no other
 * convention's marker or head): their values may be anything. */
static const char *const IGNORED[] = {
    "gen_ai.response.id",
    "gen_ai.output.type",
    "gen_ai.agent.description",
    "gen_ai.tool.description",
    "gen_ai.request.temperature",
    "gen_ai.request.top_p",
    "gen_ai.request.top_k",
    "gen_ai.request.max_tokens",
    "gen_ai.request.seed",
    "gen_ai.request.frequency_penalty",
    "gen_ai.request.presence_penalty",
    "gen_ai.request.stop_sequences",
    "gen_ai.request.choice.count",
    "gen_ai.usage.input_cost",
    "gen_ai.usage.output_cost",
    "server.address",
    "server.port",
};

static const struct {
    const char *from, *to;
} ALIASES[] = {{"call_llm", "chat"}, {"completion", "text_completion"}, {"embedding", "embeddings"}};

static const char *const OPERATIONS[] = {
    "chat",          "text_completion", "generate_content", "embeddings",    "retrieval",
    "execute_tool",  "invoke_agent",    "create_agent",     "invoke_workflow", "search_memory",
    "create_memory", "update_memory",   "upsert_memory",    "delete_memory",
};
static const char *const AGENT_OPERATIONS[] = {"invoke_agent", "create_agent"};

/* Set up once at import, alive as long as the module (never freed: single-phase init). */
static PyObject *key_index;          /* key -> index into KEYS, or -1 for IGNORED */
static PyObject *alias_of;           /* ALIASES as a dict, for _OPERATION_ALIASES.get(value, value) */
static PyObject *column_name[N_COLUMNS];
static PyObject *operation_name[COUNT(OPERATIONS)];
static PyObject *convention_key, *genai;

/* Whether s[start:start + n] is the ASCII text word (n = strlen(word)). */
static int text_at(PyObject *s, Py_ssize_t start, const char *word, Py_ssize_t n) {
    if (PyUnicode_GET_LENGTH(s) - start < n) return 0;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyUnicode_READ(kind, data, start + i) != (Py_UCS4)(unsigned char)word[i]) return 0;
    return 1;
}

static int text_is(PyObject *s, const char *word) {
    Py_ssize_t n = (Py_ssize_t)strlen(word);
    return PyUnicode_GET_LENGTH(s) == n && text_at(s, 0, word, n);
}

/* The message scanner's flags for a str (NOT_SURE when it has no UTF-8 form); -1 on error. */
static int scan_str(PyObject *text) {
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &n);
    if (utf8 == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
        PyErr_Clear(); /* lone surrogates: _msgscan says NOT_SURE too */
        return NOT_SURE;
    }
    return scan((const uint8_t *)utf8, n);
}

/* The column value a slot stores: the value itself, or one made from it once it has won. */
typedef enum { KEEP, DECIMAL, ARRAY } Make;

typedef struct {
    PyObject *value; /* borrowed (from attrs, or a module constant), NULL when unset */
    int rank;
    Make make;
} Slot;

/* Whether orjson writes s between quotes as it is: no '"', '\\' or control character to escape,
 * no surrogate (orjson refuses them, and dumps falls back to the standard library). */
static int plain_json_text(PyObject *s) {
    if (PyUnicode_READY(s) < 0) return -1;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(s); i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x20 || c == '"' || c == '\\' || (c >= 0xd800 && c <= 0xdfff)) return 0;
    }
    return 1;
}

/* json_array(list of plain str): the compact JSON text orjson writes, ["a","b"]. */
static PyObject *string_array(PyObject *list) {
    if (PyList_GET_SIZE(list) == 0) return PyUnicode_FromString("[]");
    PyObject *sep = PyUnicode_FromString("\",\""), *joined = NULL, *text = NULL;
    if (sep != NULL && (joined = PyUnicode_Join(sep, list)) != NULL)
        text = PyUnicode_FromFormat("[\"%U\"]", joined);
    Py_XDECREF(sep);
    Py_XDECREF(joined);
    return text;
}

/* The value a slot stores in the output: a new reference. */
static PyObject *made(const Slot *slot) {
    switch (slot->make) {
        case DECIMAL: return PyObject_Str(slot->value); /* as_text(int) = orjson's int64 text */
        case ARRAY: return string_array(slot->value);
        default: Py_INCREF(slot->value); return slot->value;
    }
}

#define NOT_SURE_RETURN Py_RETURN_NONE

static PyObject *fast_normalize(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "fast_normalize() takes 2 arguments (attrs, name)");
        return NULL;
    }
    PyObject *attrs = args[0], *name = args[1];
    if (!PyDict_CheckExact(attrs) || !PyUnicode_CheckExact(name) || PyUnicode_READY(name) < 0) {
        if (PyErr_Occurred()) return NULL;
        NOT_SURE_RETURN;
    }
    Slot slots[N_COLUMNS];
    int order[N_COLUMNS + 1]; /* columns in the order first set: normalize_span's key order */
    int n_order = 0, marker = 0;
    memset(slots, 0, sizeof slots);

    /* apply_key_table, checking every key and value on the way */
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(attrs, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) NOT_SURE_RETURN;
        PyObject *index = PyDict_GetItemWithError(key_index, key); /* exact str: runs no Python */
        if (index == NULL) {
            if (PyErr_Occurred()) return NULL;
            NOT_SURE_RETURN;
        }
        long i = PyLong_AsLong(index);
        if (i < 0) continue; /* IGNORED */
        const KeySpec *spec = &KEYS[i];
        marker |= spec->marker; /* detect() asks for presence, whatever the value */
        if (value == Py_None) continue;
        Make make = KEEP;
        switch (spec->convert) {
            case V_TEXT:
                if (PyLong_CheckExact(value)) {
                    int overflow;
                    (void)PyLong_AsLongLongAndOverflow(value, &overflow);
                    if (overflow) NOT_SURE_RETURN;
                    make = DECIMAL;
                } else if (!PyUnicode_CheckExact(value)) {
                    NOT_SURE_RETURN;
                }
                break;
            case V_ARRAY:
                if (!PyList_CheckExact(value)) NOT_SURE_RETURN;
                for (Py_ssize_t k = 0; k < PyList_GET_SIZE(value); k++) {
                    PyObject *item = PyList_GET_ITEM(value, k);
                    int plain = PyUnicode_CheckExact(item) ? plain_json_text(item) : 0;
                    if (plain < 0) return NULL;
                    if (!plain) NOT_SURE_RETURN;
                }
                make = ARRAY;
                break;
            case V_INPUT:
            case V_OUTPUT: /* scanned below, once the span is known to be simple */
                if (!PyUnicode_CheckExact(value)) NOT_SURE_RETURN;
                break;
            case V_INT: {
                int overflow;
                if (!PyLong_CheckExact(value)) NOT_SURE_RETURN;
                (void)PyLong_AsLongLongAndOverflow(value, &overflow); /* exact int: only overflows */
                if (overflow) NOT_SURE_RETURN;
                break;
            }
            case V_OPERATION: {
                if (!PyUnicode_Check(value)) continue; /* _operation -> None: sets nothing */
                if (!PyUnicode_CheckExact(value) || PyUnicode_READY(value) < 0) {
                    if (PyErr_Occurred()) return NULL;
                    NOT_SURE_RETURN;
                }
                if (PyUnicode_GET_LENGTH(value) == 0) continue; /* likewise */
                PyObject *alias = PyDict_GetItemWithError(alias_of, value);
                if (alias != NULL) value = alias;
                else if (PyErr_Occurred()) return NULL;
                break;
            }
        }
        Slot *slot = &slots[spec->column];
        if (slot->value != NULL) {
            if (slot->rank <= spec->rank) continue;
        } else {
            order[n_order++] = spec->column;
        }
        slot->value = value;
        slot->rank = spec->rank;
        slot->make = make;
    }
    if (!marker) NOT_SURE_RETURN;
    PyObject *input = slots[C_INPUT_MESSAGES].value, *output = slots[C_OUTPUT_MESSAGES].value;
    if (input != NULL) {
        int flags = scan_str(input);
        if (flags < 0) return NULL;
        if (!(flags & CANONICAL) || (flags & HAS_SYSTEM)) NOT_SURE_RETURN; /* system_fallback */
    }
    if (output != NULL) {
        int flags = scan_str(output);
        if (flags < 0) return NULL;
        if (!(flags & CANONICAL) || (flags & MAY_REASON)) NOT_SURE_RETURN; /* reasoning_of */
    }

    /* genai.normalize: the operation from the span name's head */
    Py_ssize_t name_len = PyUnicode_GET_LENGTH(name);
    PyObject *op = slots[C_OPERATION].value;
    if (op == NULL) {
        Py_ssize_t space = PyUnicode_FindChar(name, ' ', 0, name_len, 1);
        if (space == -2) return NULL;
        Py_ssize_t head = space < 0 ? name_len : space;
        for (Py_ssize_t j = 0; j < COUNT(OPERATIONS); j++) {
            if ((Py_ssize_t)strlen(OPERATIONS[j]) == head && text_at(name, 0, OPERATIONS[j], head)) {
                op = slots[C_OPERATION].value = operation_name[j];
                order[n_order++] = C_OPERATION;
                break;
            }
        }
    }
    /* agent_identity: "invoke_agent planner" names its agent when gen_ai.agent.name does not */
    PyObject *agent = NULL; /* new reference */
    if (op != NULL && slots[C_AGENT_NAME].value == NULL && PyUnicode_READY(op) == 0) {
        for (Py_ssize_t j = 0; j < COUNT(AGENT_OPERATIONS); j++) {
            Py_ssize_t n = (Py_ssize_t)strlen(AGENT_OPERATIONS[j]);
            if (!text_is(op, AGENT_OPERATIONS[j])) continue;
            if (name_len > n + 1 && text_at(name, 0, AGENT_OPERATIONS[j], n) &&
                PyUnicode_READ_CHAR(name, n) == ' ') {
                agent = PyUnicode_Substring(name, n + 1, name_len);
                if (agent == NULL) return NULL;
                slots[C_AGENT_NAME].value = agent;
                order[n_order++] = C_AGENT_NAME;
            }
            break;
        }
    }

    PyObject *out = PyDict_New();
    if (out == NULL || PyDict_SetItem(out, convention_key, genai) < 0) goto error;
    for (int k = 0; k < n_order; k++) {
        PyObject *value = made(&slots[order[k]]);
        int rc = value == NULL ? -1 : PyDict_SetItem(out, column_name[order[k]], value);
        Py_XDECREF(value);
        if (rc < 0) goto error;
    }
    Py_XDECREF(agent);
    return out;
error:
    Py_XDECREF(out);
    Py_XDECREF(agent);
    return NULL;
}

/* move_verbatim(attrs, norm, moved, /): collector.decode.traces._move_attributes_py in C (see
   there): for each (key, column) of `moved` (bit i for the i-th), delete attrs[key] when it is
   exactly a str or an int and equal to norm[column]; return the mask of the deleted, or None. */
static PyObject *move_verbatim(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3 || !PyDict_Check(args[0]) || !PyDict_Check(args[1]) || !PyTuple_Check(args[2]) ||
        PyTuple_GET_SIZE(args[2]) > 62) {
        PyErr_SetString(PyExc_TypeError, "move_verbatim(attrs: dict, norm: dict, moved: tuple of <= 62 pairs)");
        return NULL;
    }
    PyObject *attrs = args[0], *norm = args[1], *moved = args[2];
    long long mask = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(moved); i++) {
        PyObject *pair = PyTuple_GET_ITEM(moved, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "move_verbatim: moved holds (key, column) pairs");
            return NULL;
        }
        PyObject *key = PyTuple_GET_ITEM(pair, 0);
        PyObject *value = PyDict_GetItemWithError(attrs, key); /* borrowed */
        if (value == NULL) {
            if (PyErr_Occurred()) return NULL;
            continue;
        }
        if (!PyUnicode_CheckExact(value) && !PyLong_CheckExact(value)) continue;
        PyObject *held = PyDict_GetItemWithError(norm, PyTuple_GET_ITEM(pair, 1));
        if (held == NULL) {
            if (PyErr_Occurred()) return NULL;
            continue;
        }
        int same = PyObject_RichCompareBool(held, value, Py_EQ); /* identity first, as == does */
        if (same < 0) return NULL;
        if (!same) continue;
        if (PyDict_DelItem(attrs, key) < 0) return NULL;
        mask |= 1LL << i;
    }
    if (!mask) Py_RETURN_NONE;
    return PyLong_FromLongLong(mask);
}

static PyMethodDef methods[] = {
    {"fast_normalize", (PyCFunction)(void (*)(void))fast_normalize, METH_FASTCALL,
     "fast_normalize(attrs, name) -> normalize_span(attrs, name, ()) for a plain GenAI semconv span, "
     "or None (not sure): see collector/decode/_genai.pyi."},
    {"move_verbatim", (PyCFunction)(void (*)(void))move_verbatim, METH_FASTCALL,
     "move_verbatim(attrs, norm, moved) -> mask or None: collector.decode.traces._move_attributes_py "
     "in C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "collector.decode._genai",
    "normalize_span for the plain GenAI semconv span (see collector/decode/normalize.py)",
    -1, methods, NULL, NULL, NULL, NULL,
};

/* A tuple of str from a C array of names. */
static PyObject *names(const char *const *words, Py_ssize_t n) {
    PyObject *tuple = PyTuple_New(n);
    for (Py_ssize_t i = 0; tuple != NULL && i < n; i++) {
        PyObject *word = PyUnicode_InternFromString(words[i]);
        if (word == NULL) Py_CLEAR(tuple);
        else PyTuple_SET_ITEM(tuple, i, word);
    }
    return tuple;
}

static int add(PyObject *m, const char *name, PyObject *value) {
    if (value == NULL) return -1;
    if (PyModule_AddObject(m, name, value) < 0) {
        Py_DECREF(value);
        return -1;
    }
    return 0;
}

/* The lookup tables, and the exports: KEYS (key -> (column, converter name, rank)), GENAI_MARKERS,
 * IGNORED_KEYS, OPERATION_ALIASES, KNOWN_OPERATIONS, AGENT_OPERATIONS. */
static int setup_tables(PyObject *m) {
    PyObject *keys = PyDict_New(), *markers = PyList_New(0);
    key_index = PyDict_New();
    alias_of = PyDict_New();
    if (keys == NULL || markers == NULL || key_index == NULL || alias_of == NULL) goto error;
    for (int c = 0; c < N_COLUMNS; c++)
        if ((column_name[c] = PyUnicode_InternFromString(COLUMN_NAMES[c])) == NULL) goto error;
    for (Py_ssize_t i = 0; i < COUNT(KEYS); i++) {
        const KeySpec *spec = &KEYS[i];
        PyObject *key = PyUnicode_InternFromString(spec->key);
        PyObject *index = PyLong_FromSsize_t(i);
        PyObject *entry = Py_BuildValue("(Osi)", column_name[spec->column], CONVERT_NAMES[spec->convert],
                                        spec->rank);
        int rc = key == NULL || index == NULL || entry == NULL ? -1
                 : PyDict_SetItem(key_index, key, index) < 0   ? -1
                 : PyDict_SetItem(keys, key, entry) < 0        ? -1
                 : spec->marker                                ? PyList_Append(markers, key)
                                                               : 0;
        Py_XDECREF(key);
        Py_XDECREF(index);
        Py_XDECREF(entry);
        if (rc < 0) goto error;
    }
    PyObject *ignored = PyLong_FromLong(-1);
    if (ignored == NULL) goto error;
    for (Py_ssize_t i = 0; i < COUNT(IGNORED); i++) {
        PyObject *key = PyUnicode_InternFromString(IGNORED[i]);
        int rc = key == NULL ? -1 : PyDict_SetItem(key_index, key, ignored);
        Py_XDECREF(key);
        if (rc < 0) {
            Py_DECREF(ignored);
            goto error;
        }
    }
    Py_DECREF(ignored);
    for (Py_ssize_t i = 0; i < COUNT(ALIASES); i++) {
        PyObject *from = PyUnicode_InternFromString(ALIASES[i].from);
        PyObject *to = PyUnicode_InternFromString(ALIASES[i].to);
        int rc = from == NULL || to == NULL ? -1 : PyDict_SetItem(alias_of, from, to);
        Py_XDECREF(from);
        Py_XDECREF(to);
        if (rc < 0) goto error;
    }
    for (Py_ssize_t j = 0; j < COUNT(OPERATIONS); j++)
        if ((operation_name[j] = PyUnicode_InternFromString(OPERATIONS[j])) == NULL) goto error;
    convention_key = PyUnicode_InternFromString("convention");
    genai = PyUnicode_InternFromString("genai");
    if (convention_key == NULL || genai == NULL) goto error;

    PyObject *marker_tuple = PyList_AsTuple(markers);
    Py_CLEAR(markers);
    if (add(m, "KEYS", keys) < 0) {
        keys = NULL;
        Py_XDECREF(marker_tuple);
        goto error;
    }
    keys = NULL;
    Py_INCREF(alias_of);
    if (add(m, "GENAI_MARKERS", marker_tuple) < 0 || add(m, "IGNORED_KEYS", names(IGNORED, COUNT(IGNORED))) < 0 ||
        add(m, "OPERATION_ALIASES", alias_of) < 0 ||
        add(m, "KNOWN_OPERATIONS", names(OPERATIONS, COUNT(OPERATIONS))) < 0 ||
        add(m, "AGENT_OPERATIONS", names(AGENT_OPERATIONS, COUNT(AGENT_OPERATIONS))) < 0)
        return -1; /* the import fails: the module-level references are never used */
    return 0;
error:
    Py_XDECREF(keys);
    Py_XDECREF(markers);
    return -1;
}

PyMODINIT_FUNC PyInit__genai(void) {
    init_tables();
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (setup_tables(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
