/* The GenAI message-list scanner itself (the contract is in _msgscan.c and _msgscan.pyi), shared by
 * the compiled modules that include it: _msgscan (scan_messages) and _genai (fast_normalize).
 *
 * Everything here is static: each module gets its own copy, and must call init_tables() once from
 * its init function before calling scan().
 */
#ifndef FAULTLENS_MSGSCAN_H
#define FAULTLENS_MSGSCAN_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 64
/* Longer numbers are left to orjson; below it, only an exponent can make a number overflow. */
#define MAX_NUMBER_LEN 64

enum { NOT_SURE = 0, CANONICAL = 1, HAS_SYSTEM = 2, MAY_REASON = 4 };

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
    int depth;
} Scan;

/* A scanned string: its raw bytes between the quotes, and whether they hold any escape. */
typedef struct {
    const uint8_t *p;
    Py_ssize_t len;
    int escaped;
} Str;

/* Bytes that end the fast run through a string: '"', '\\', control characters; STOP_LT adds '<'
 * (text contents are searched for "<think"). */
static uint8_t STOP[256], STOP_LT[256];

static void init_tables(void) {
    for (int c = 0; c < 0x20; c++) STOP[c] = STOP_LT[c] = 1;
    STOP['"'] = STOP_LT['"'] = 1;
    STOP['\\'] = STOP_LT['\\'] = 1;
    STOP_LT['<'] = 1;
}

/* Past the bytes of a string that need no look (none that stop[] flags), 8 at a time: the exact
 * zero-byte tests of "Bit Twiddling Hacks" (x - 0x01.. & ~x & 0x80..), then byte by byte. */
static inline const uint8_t *skip_plain(const uint8_t *p, const uint8_t *end, const uint8_t *stop) {
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const uint64_t lt = stop == STOP_LT ? ones * '<' : ones * '"'; /* '<' or a repeat of '"' */
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), l = x ^ lt;
        uint64_t hit = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | ((l - ones) & ~l);
        if (hit & highs) break;
        p += 8;
    }
    while (p < end && !stop[*p]) p++;
    return p;
}

static inline void skip_ws(Scan *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) s->p++;
}

/* Past what str.lstrip() removes (Py_UNICODE_ISSPACE, in UTF-8). */
static const uint8_t *lstrip(const uint8_t *p, const uint8_t *end) {
    while (p < end) {
        uint8_t c = p[0];
        Py_ssize_t left = end - p;
        if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) {
            p += 1;
        } else if (c == 0xc2 && left >= 2 && (p[1] == 0x85 || p[1] == 0xa0)) {
            p += 2; /* U+0085, U+00A0 */
        } else if (c == 0xe1 && left >= 3 && p[1] == 0x9a && p[2] == 0x80) {
            p += 3; /* U+1680 */
        } else if (c == 0xe2 && left >= 3 && p[1] == 0x80 &&
                   (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)) {
            p += 3; /* U+2000..U+200A, U+2028, U+2029, U+202F (p[2] >= 0x80: valid UTF-8) */
        } else if (c == 0xe2 && left >= 3 && p[1] == 0x81 && p[2] == 0x9f) {
            p += 3; /* U+205F */
        } else if (c == 0xe3 && left >= 3 && p[1] == 0x80 && p[2] == 0x80) {
            p += 3; /* U+3000 */
        } else {
            break;
        }
    }
    return p;
}

static int hex4(const uint8_t *p, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = (v << 4) | d;
    }
    *out = v;
    return 0;
}

/* One escape at p (just past the backslash): its code point in *cp, the position after it in
 * *next. Surrogates must come as a high-low pair of \u escapes (orjson refuses lone ones). */
static int escape(const uint8_t *p, const uint8_t *end, uint32_t *cp, const uint8_t **next) {
    if (p >= end) return -1;
    switch (*p) {
        case '"': *cp = '"'; break;
        case '\\': *cp = '\\'; break;
        case '/': *cp = '/'; break;
        case 'b': *cp = '\b'; break;
        case 'f': *cp = '\f'; break;
        case 'n': *cp = '\n'; break;
        case 'r': *cp = '\r'; break;
        case 't': *cp = '\t'; break;
        case 'u': {
            uint32_t hi, lo;
            if (end - p < 5 || hex4(p + 1, &hi) < 0) return -1;
            if (hi >= 0xdc00 && hi <= 0xdfff) return -1;
            if (hi < 0xd800 || hi > 0xdbff) {
                *cp = hi;
                *next = p + 5;
                return 0;
            }
            if (end - p < 11 || p[5] != '\\' || p[6] != 'u' || hex4(p + 7, &lo) < 0) return -1;
            if (lo < 0xdc00 || lo > 0xdfff) return -1;
            *cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
            *next = p + 11;
            return 0;
        }
        default:
            return -1;
    }
    *next = p + 1;
    return 0;
}

/* The string at s->p (an opening quote). With think != NULL, sets *think when the decoded string
 * contains "<think" (what reasoning_of looks for in text parts). */
static int scan_string(Scan *s, Str *out, int *think) {
    static const char pattern[] = "<think";
    const uint8_t *p = s->p + 1, *end = s->end;
    const uint8_t *stop = think != NULL && !*think ? STOP_LT : STOP;
    int matched = 0, escaped = 0; /* matched: leading chars of pattern just seen */
    out->p = p;
    for (;;) {
        if (matched == 0) p = skip_plain(p, end, stop);
        if (p >= end) return -1;
        uint32_t c = *p;
        if (c == '"') break;
        if (c < 0x20) return -1;
        if (c == '\\') {
            escaped = 1;
            if (escape(p + 1, end, &c, &p) < 0) return -1;
        } else {
            p++;
        }
        if (stop == STOP_LT) {
            /* No character repeats in the pattern: on a mismatch only '<' can restart it. */
            matched = c == (uint32_t)pattern[matched] ? matched + 1 : c == '<';
            if (matched == (int)sizeof pattern - 1) {
                *think = 1;
                stop = STOP;
                matched = 0;
            }
        }
    }
    out->len = p - out->p;
    out->escaped = escaped;
    s->p = p + 1;
    return 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, refusing what could overflow a double. */
static int scan_number(Scan *s) {
    const uint8_t *p = s->p, *end = s->end, *start = s->p;
    if (p < end && *p == '-') p++;
    const uint8_t *digits = p;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') p++;
    } else {
        return -1;
    }
    Py_ssize_t int_digits = p - digits;
    if (p < end && *p >= '0' && *p <= '9') return -1; /* a leading zero */
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') return -1;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int negative = 0;
        if (p < end && (*p == '+' || *p == '-')) negative = *p++ == '-';
        if (p >= end || *p < '0' || *p > '9') return -1;
        long exponent = 0;
        for (int n = 0; p < end && *p >= '0' && *p <= '9'; n++, p++) {
            if (n == 4) return -1;
            exponent = exponent * 10 + (*p - '0');
        }
        if (exponent > 300 || (!negative && int_digits + exponent > 300)) return -1;
    }
    if (p - start > MAX_NUMBER_LEN) return -1;
    s->p = p;
    return 0;
}

static int scan_literal(Scan *s, const char *word, Py_ssize_t n) {
    if (s->end - s->p < n || memcmp(s->p, word, (size_t)n) != 0) return -1;
    s->p += n;
    return 0;
}

static int scan_value(Scan *s);

/* The members of an object or the items of an array, s->p just past the opening bracket. */
static int scan_container(Scan *s, uint8_t close) {
    if (++s->depth > MAX_DEPTH) return -1;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            Str key;
            if (s->p >= s->end || *s->p != '"' || scan_string(s, &key, NULL) < 0) return -1;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':') return -1;
            s->p++;
            skip_ws(s);
        }
        if (scan_value(s) < 0) return -1;
        skip_ws(s);
        if (s->p >= s->end) return -1;
        if (*s->p == close) break;
        if (*s->p != ',') return -1;
        s->p++;
        skip_ws(s);
    }
    s->p++;
    s->depth--;
    return 0;
}

/* Any JSON value at s->p (whitespace before it already skipped). */
static int scan_value(Scan *s) {
    if (s->p >= s->end) return -1;
    Str str;
    switch (*s->p) {
        case '"': return scan_string(s, &str, NULL);
        case '{': s->p++; return scan_container(s, '}');
        case '[': s->p++; return scan_container(s, ']');
        case 't': return scan_literal(s, "true", 4);
        case 'f': return scan_literal(s, "false", 5);
        case 'n': return scan_literal(s, "null", 4);
        default: return scan_number(s);
    }
}

/* ---- the message shape ----------------------------------------------------------------------- */

static int str_is(Str str, const char *word) {
    size_t n = strlen(word);
    return (size_t)str.len == n && memcmp(str.p, word, n) == 0;
}

/* The keys of a message or part object the check reads; each bit set when seen. */
enum { K_OTHER = 0, K_ROLE = 1, K_PARTS = 2, K_TYPE = 4, K_CONTENT = 8, K_NAME = 16, K_RESPONSE = 32 };

static const char *const RENAMED[] = {
    "thinking", "redacted_thinking", "function_call", "tool_use", "tool_result", "function_call_output",
    "image_url",
};
/* part type -> the key a canonical part of that type must have */
static const struct {
    const char *type, *key;
    int bit;
} REQUIRED[] = {
    {"text", "content", K_CONTENT},
    {"reasoning", "content", K_CONTENT},
    {"tool_call", "name", K_NAME},
    {"tool_call_response", "response", K_RESPONSE},
};
#define COUNT(a) ((Py_ssize_t)(sizeof(a) / sizeof((a)[0])))

static int key_bit(Str key) {
    switch (key.len) {
        case 4:
            if (str_is(key, "role")) return K_ROLE;
            if (str_is(key, "type")) return K_TYPE;
            if (str_is(key, "name")) return K_NAME;
            return K_OTHER;
        case 5: return str_is(key, "parts") ? K_PARTS : K_OTHER;
        case 7: return str_is(key, "content") ? K_CONTENT : K_OTHER;
        case 8: return str_is(key, "response") ? K_RESPONSE : K_OTHER;
        default: return K_OTHER;
    }
}

/* The next key of an object at s->p: its bit, or -1 (not a plain string key, repeated, no ':'). */
static int next_key(Scan *s, int *seen) {
    Str key;
    if (s->p >= s->end || *s->p != '"' || scan_string(s, &key, NULL) < 0 || key.escaped) return -1;
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':') return -1;
    s->p++;
    skip_ws(s);
    int bit = key_bit(key);
    if (*seen & bit) return -1;
    *seen |= bit;
    return bit;
}

/* After a member: 1 at the closing '}', 0 past a ',', -1 otherwise. */
static int after_member(Scan *s) {
    skip_ws(s);
    if (s->p >= s->end) return -1;
    if (*s->p == '}') {
        s->p++;
        return 1;
    }
    if (*s->p != ',') return -1;
    s->p++;
    skip_ws(s);
    return 0;
}

/* One part object at s->p; may set *flags |= MAY_REASON. */
static int scan_part(Scan *s, int *flags) {
    if (s->p >= s->end || *s->p != '{' || ++s->depth > MAX_DEPTH) return -1;
    s->p++;
    skip_ws(s);
    Str type = {NULL, 0, 0};
    int seen = 0, think = 0, done = 0; /* think: a string content holds "<think" */
    while (!done) {
        int bit = next_key(s, &seen);
        if (bit < 0 || s->p >= s->end) return -1;
        if (bit == K_TYPE) {
            if (*s->p != '"' || scan_string(s, &type, NULL) < 0 || type.escaped) return -1;
        } else if (bit == K_CONTENT && *s->p == '"') {
            Str content;
            if (scan_string(s, &content, &think) < 0) return -1;
        } else if (scan_value(s) < 0) {
            return -1;
        }
        if ((done = after_member(s)) < 0) return -1;
    }
    s->depth--;
    if (!(seen & K_TYPE)) return -1;
    for (Py_ssize_t i = 0; i < COUNT(RENAMED); i++)
        if (str_is(type, RENAMED[i])) return -1;
    for (Py_ssize_t i = 0; i < COUNT(REQUIRED); i++)
        if (str_is(type, REQUIRED[i].type) && !(seen & REQUIRED[i].bit)) return -1;
    if (str_is(type, "reasoning") || (think && str_is(type, "text"))) *flags |= MAY_REASON;
    return 0;
}

/* The parts array at s->p. */
static int scan_parts(Scan *s, int *flags) {
    if (s->p >= s->end || *s->p != '[' || ++s->depth > MAX_DEPTH) return -1;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        if (scan_part(s, flags) < 0) return -1;
        skip_ws(s);
        if (s->p >= s->end) return -1;
        if (*s->p == ']') break;
        if (*s->p != ',') return -1;
        s->p++;
        skip_ws(s);
    }
    s->p++;
    s->depth--;
    return 0;
}

/* One message object at s->p; may set *flags |= HAS_SYSTEM, MAY_REASON. */
static int scan_message(Scan *s, int *flags) {
    if (s->p >= s->end || *s->p != '{' || ++s->depth > MAX_DEPTH) return -1;
    s->p++;
    skip_ws(s);
    int seen = 0, done = 0;
    while (!done) {
        int bit = next_key(s, &seen);
        if (bit < 0 || s->p >= s->end) return -1;
        if (bit == K_ROLE) {
            Str role;
            if (*s->p != '"' || scan_string(s, &role, NULL) < 0 || role.escaped) return -1;
            if (str_is(role, "system") || str_is(role, "developer")) *flags |= HAS_SYSTEM;
        } else if (bit == K_PARTS) {
            if (scan_parts(s, flags) < 0) return -1;
        } else if (scan_value(s) < 0) {
            return -1;
        }
        if ((done = after_member(s)) < 0) return -1;
    }
    s->depth--;
    return (seen & (K_ROLE | K_PARTS)) == (K_ROLE | K_PARTS) ? 0 : -1;
}

static int scan(const uint8_t *text, Py_ssize_t n) {
    Scan s = {lstrip(text, text + n), text + n, 1};
    int flags = CANONICAL;
    if (s.p >= s.end || *s.p != '[') return NOT_SURE;
    s.p++;
    skip_ws(&s);
    for (;;) { /* an empty list is not canonical: the first message is required */
        if (scan_message(&s, &flags) < 0) return NOT_SURE;
        skip_ws(&s);
        if (s.p >= s.end) return NOT_SURE;
        if (*s.p == ']') break;
        if (*s.p != ',') return NOT_SURE;
        s.p++;
        skip_ws(&s);
    }
    s.p++;
    skip_ws(&s);
    return s.p == s.end ? flags : NOT_SURE;
}

#endif /* FAULTLENS_MSGSCAN_H */
