/* tests/cli/check_image.c - validates the images and the page `gctune
 * report` writes, for tests/cli/test_report.sh (no python, no image
 * library: zlib only).
 *
 *   check_image [--size WxH] [--min-bytes N] FILE...
 *       each FILE.png: the PNG signature, every chunk's CRC, IHDR first
 *       with the size WxH (default 1280x720), IEND last, the image data
 *       inflates to the size IHDR implies, and the picture is not trivial:
 *       at least 4 distinct colours and at least 1% of the pixels not the
 *       background (the most common colour);
 *       each FILE.svg: well-formed XML whose root is <svg> with width and
 *       height WxH, with at least 50 elements, a <path> and a <text>;
 *       both: at least N bytes (default 8000).
 *   check_image --html FILE
 *       FILE is well-formed XML (the page is written so) with an <html>
 *       root; prints the src attribute of every <img>, one per line.
 *
 * Exit status 0 when every file passes; else 1, one line per failure on
 * stderr ("check_image: FILE: what is wrong").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int want_w = 1280, want_h = 720;
static long min_bytes = 8000;

static int bad(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const char *file, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "check_image: %s: ", file);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static unsigned char *slurp(const char *file, size_t *len)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        bad(file, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* ---- PNG ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Distinct colours (up to a cap) and the share of the most common one. */
#define NCOL 4096
static int check_pixels(const char *file, const unsigned char *img, uint32_t w, uint32_t h,
                        int channels, int depth, int color)
{
    static uint32_t key[NCOL];
    static uint64_t cnt[NCOL];
    static unsigned char used[NCOL];
    memset(used, 0, sizeof used);
    memset(cnt, 0, sizeof cnt);
    size_t ncolors = 0;
    int overflow = 0;
    size_t rowbytes = ((size_t)w * (size_t)channels * (size_t)depth + 7) / 8;
    for (uint32_t y = 0; y < h; y++) {
        const unsigned char *row = img + (size_t)y * rowbytes;
        for (uint32_t x = 0; x < w; x++) {
            uint32_t v;
            if (depth == 8) {
                const unsigned char *p = row + (size_t)x * (size_t)channels;
                v = 0;
                for (int c = 0; c < channels; c++)
                    v = v << 8 | p[c];
                if (channels == 4 && p[3] == 0)
                    v = 0;      /* transparent: one colour */
            } else {            /* palette or grey, 1/2/4 bits */
                size_t bit = (size_t)x * (size_t)depth;
                v = (uint32_t)(row[bit / 8] >> (8 - depth - bit % 8)) & ((1u << depth) - 1);
            }
            uint32_t hsh = (v * 2654435761u) % NCOL;
            size_t probes = 0;
            while (used[hsh] && key[hsh] != v && probes++ < NCOL)
                hsh = (hsh + 1) % NCOL;
            if (!used[hsh]) {
                if (ncolors >= NCOL * 3 / 4) {
                    overflow = 1;
                    continue;
                }
                used[hsh] = 1;
                key[hsh] = v;
                ncolors++;
            }
            cnt[hsh]++;
        }
    }
    (void)color;
    uint64_t top = 0;
    for (size_t i = 0; i < NCOL; i++)
        if (used[i] && cnt[i] > top)
            top = cnt[i];
    double other = 1.0 - (double)top / ((double)w * (double)h);
    if (ncolors < 4 && !overflow)
        return bad(file, "trivial image: %zu distinct colours", ncolors);
    if (other < 0.01)
        return bad(file, "trivial image: %.2f%% of the pixels differ from the background",
                   other * 100);
    printf("%s: PNG %ux%u, %zu%s colours, %.1f%% non-background\n", file, w, h, ncolors,
           overflow ? "+" : "", other * 100);
    return 0;
}

static int check_png(const char *file, const unsigned char *b, size_t n)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (n < 8 || memcmp(b, sig, 8))
        return bad(file, "not a PNG file (bad signature)");
    size_t off = 8;
    int seen_ihdr = 0, seen_iend = 0;
    uint32_t w = 0, h = 0;
    int depth = 0, color = 0, interlace = 0;
    unsigned char *idat = NULL;
    size_t nidat = 0;
    while (off + 12 <= n) {
        uint32_t len = be32(b + off);
        const unsigned char *type = b + off + 4;
        if (len > n - off - 12) {
            free(idat);
            return bad(file, "chunk %.4s at offset %zu runs past the end", type, off);
        }
        uint32_t crc = (uint32_t)crc32(0L, type, len + 4);
        if (crc != be32(b + off + 8 + len)) {
            free(idat);
            return bad(file, "chunk %.4s at offset %zu: bad CRC", type, off);
        }
        if (!seen_ihdr && memcmp(type, "IHDR", 4)) {
            free(idat);
            return bad(file, "first chunk is %.4s, not IHDR", type);
        }
        if (!memcmp(type, "IHDR", 4)) {
            if (len != 13) {
                free(idat);
                return bad(file, "IHDR of length %u", len);
            }
            w = be32(type + 4);
            h = be32(type + 8);
            depth = type[12];
            color = type[13];
            interlace = type[16];
            seen_ihdr = 1;
        } else if (!memcmp(type, "IDAT", 4)) {
            idat = realloc(idat, nidat + len + 1);
            memcpy(idat + nidat, type + 4, len);
            nidat += len;
        } else if (!memcmp(type, "IEND", 4)) {
            seen_iend = 1;
            off += 12 + len;
            break;
        }
        off += 12 + len;
    }
    if (!seen_iend || off != n) {
        free(idat);
        return bad(file, "%s", !seen_iend ? "no IEND chunk (truncated?)" : "data after IEND");
    }
    if ((int)w != want_w || (int)h != want_h) {
        free(idat);
        return bad(file, "size %ux%u, want %dx%d", w, h, want_w, want_h);
    }
    int channels = color == 0 ? 1 : color == 2 ? 3 : color == 3 ? 1
                 : color == 4 ? 2 : color == 6 ? 4 : 0;
    int small = (color == 3 || color == 0) && (depth == 1 || depth == 2 || depth == 4);
    if (!channels || (depth != 8 && !small)) {
        free(idat);
        return bad(file, "colour type %d with bit depth %d: not checked by this tool", color, depth);
    }
    if (interlace) {
        free(idat);
        return bad(file, "interlaced PNG: not checked by this tool");
    }
    if (nidat == 0) {
        free(idat);
        return bad(file, "no IDAT chunk");
    }
    size_t rowbytes = ((size_t)w * (size_t)channels * (size_t)depth + 7) / 8;
    size_t want = (size_t)h * (rowbytes + 1);
    unsigned char *raw = malloc(want + 1);
    uLongf got = (uLongf)want + 1;
    int zr = uncompress(raw, &got, idat, (uLong)nidat);
    free(idat);
    if (zr != Z_OK || got != want) {
        free(raw);
        return bad(file, "image data: %s (%lu of %zu bytes)",
                   zr == Z_OK ? "wrong size" : zr == Z_BUF_ERROR ? "too long" : "corrupt",
                   (unsigned long)got, want);
    }
    /* unfilter in place into img */
    unsigned char *img = malloc(h * rowbytes + 1);
    size_t bpp = ((size_t)channels * (size_t)depth + 7) / 8;
    for (uint32_t y = 0; y < h; y++) {
        int filter = raw[(size_t)y * (rowbytes + 1)];
        const unsigned char *src = raw + (size_t)y * (rowbytes + 1) + 1;
        unsigned char *dst = img + (size_t)y * rowbytes;
        const unsigned char *up = y ? dst - rowbytes : NULL;
        for (size_t i = 0; i < rowbytes; i++) {
            int a = i >= bpp ? dst[i - bpp] : 0, u = up ? up[i] : 0;
            int c = i >= bpp && up ? up[i - bpp] : 0;
            int pred;
            switch (filter) {
            case 0: pred = 0; break;
            case 1: pred = a; break;
            case 2: pred = u; break;
            case 3: pred = (a + u) / 2; break;
            case 4: pred = paeth(a, u, c); break;
            default:
                free(raw);
                free(img);
                return bad(file, "row %u: unknown filter %d", y, filter);
            }
            dst[i] = (unsigned char)(src[i] + pred);
        }
    }
    free(raw);
    int rc = check_pixels(file, img, w, h, channels, depth, color);
    free(img);
    return rc;
}

/* ---- XML (SVG, and the report's page) ---- */

typedef struct xml {
    const char *file;
    const char *s, *p;
    int depth;
    char stack[256][64];
    char root[64];
    long elements;
    long paths, texts;
    double width, height;
    int html;                   /* print <img src> */
} xml;

static int name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':' || c >= 0x80;
}

static size_t line_of(const xml *x)
{
    size_t l = 1;
    for (const char *q = x->s; q < x->p; q++)
        l += *q == '\n';
    return l;
}

static int xbad(xml *x, const char *what)
{
    return bad(x->file, "line %zu: %s", line_of(x), what);
}

static void skip_ws(xml *x)
{
    while (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r')
        x->p++;
}

/* An entity reference at x->p ('&'): predefined or numeric. */
static int entity(xml *x)
{
    const char *e = strchr(x->p, ';');
    if (!e || e - x->p > 12)
        return xbad(x, "'&' not starting an entity reference");
    size_t n = (size_t)(e - x->p - 1);
    const char *nm = x->p + 1;
    int ok = (n == 2 && (!strncmp(nm, "lt", 2) || !strncmp(nm, "gt", 2))) ||
             (n == 3 && !strncmp(nm, "amp", 3)) ||
             (n == 4 && (!strncmp(nm, "quot", 4) || !strncmp(nm, "apos", 4))) ||
             (n >= 2 && nm[0] == '#');
    if (!ok)
        return xbad(x, "unknown entity (only the XML ones and numeric references)");
    x->p = e + 1;
    return 0;
}

static double number(const char *v)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || (*end && strcmp(end, "px")))
        return -1;
    return d;
}

static int element(xml *x)
{
    /* at '<' of a start tag */
    x->p++;
    char name[64];
    size_t n = 0;
    while (name_char((unsigned char)*x->p) && n + 1 < sizeof name)
        name[n++] = *x->p++;
    name[n] = 0;
    if (n == 0)
        return xbad(x, "'<' not starting a tag");
    if (x->depth == 0) {
        if (x->root[0])
            return xbad(x, "a second root element");
        snprintf(x->root, sizeof x->root, "%s", name);
    }
    x->elements++;
    x->paths += !strcmp(name, "path") || !strcmp(name, "polyline");
    x->texts += !strcmp(name, "text");
    char seen[32][64];
    int nseen = 0;
    for (;;) {
        const char *before = x->p;
        skip_ws(x);
        if (!*x->p)
            return xbad(x, "unterminated tag at the end of the file");
        if (*x->p == '/' && x->p[1] == '>') {
            x->p += 2;
            return 0;       /* empty element */
        }
        if (*x->p == '>') {
            x->p++;
            if (x->depth >= 256)
                return xbad(x, "elements nested too deep");
            snprintf(x->stack[x->depth++], 64, "%s", name);
            return 0;
        }
        if (x->p == before)
            return xbad(x, "no space before an attribute");
        char an[64];
        size_t k = 0;
        while (name_char((unsigned char)*x->p) && k + 1 < sizeof an)
            an[k++] = *x->p++;
        an[k] = 0;
        if (k == 0)
            return xbad(x, "bad attribute name");
        for (int i = 0; i < nseen; i++)
            if (!strcmp(seen[i], an))
                return xbad(x, "an attribute twice");
        if (nseen < 32)
            snprintf(seen[nseen++], 64, "%s", an);
        skip_ws(x);
        if (*x->p != '=')
            return xbad(x, "attribute without '='");
        x->p++;
        skip_ws(x);
        char q = *x->p;
        if (q != '"' && q != '\'')
            return xbad(x, "attribute value not quoted");
        const char *v = ++x->p;
        while (*x->p && *x->p != q) {
            if (*x->p == '<')
                return xbad(x, "'<' in an attribute value");
            if (*x->p == '&') {
                if (entity(x) < 0)
                    return -1;
                continue;
            }
            x->p++;
        }
        if (!*x->p)
            return xbad(x, "unterminated attribute value");
        size_t vl = (size_t)(x->p - v);
        x->p++;
        char val[1024];
        snprintf(val, sizeof val, "%.*s", (int)(vl < sizeof val ? vl : sizeof val - 1), v);
        if (x->depth == 0 && !strcmp(name, "svg")) {
            if (!strcmp(an, "width"))
                x->width = number(val);
            else if (!strcmp(an, "height"))
                x->height = number(val);
        }
        if (x->html && !strcmp(name, "img") && !strcmp(an, "src"))
            printf("%s\n", val);
    }
}

static int parse_xml(xml *x)
{
    x->p = x->s;
    if (!strncmp(x->p, "\xef\xbb\xbf", 3))
        x->p += 3;
    while (*x->p) {
        if (*x->p == '<') {
            if (!strncmp(x->p, "<?", 2)) {
                const char *e = strstr(x->p, "?>");
                if (!e)
                    return xbad(x, "unterminated processing instruction");
                x->p = e + 2;
            } else if (!strncmp(x->p, "<!--", 4)) {
                const char *e = strstr(x->p + 4, "-->");
                if (!e)
                    return xbad(x, "unterminated comment");
                x->p = e + 3;
            } else if (!strncmp(x->p, "<![CDATA[", 9)) {
                if (x->depth == 0)
                    return xbad(x, "CDATA outside the root element");
                const char *e = strstr(x->p, "]]>");
                if (!e)
                    return xbad(x, "unterminated CDATA section");
                x->p = e + 3;
            } else if (!strncmp(x->p, "<!DOCTYPE", 9)) {
                if (x->root[0])
                    return xbad(x, "DOCTYPE after the root element");
                int br = 0;
                while (*x->p && (*x->p != '>' || br)) {
                    br += *x->p == '[';
                    br -= *x->p == ']';
                    x->p++;
                }
                if (!*x->p)
                    return xbad(x, "unterminated DOCTYPE");
                x->p++;
            } else if (x->p[1] == '/') {
                x->p += 2;
                char name[64];
                size_t n = 0;
                while (name_char((unsigned char)*x->p) && n + 1 < sizeof name)
                    name[n++] = *x->p++;
                name[n] = 0;
                skip_ws(x);
                if (*x->p != '>')
                    return xbad(x, "bad end tag");
                x->p++;
                if (x->depth == 0)
                    return xbad(x, "end tag without a start tag");
                if (strcmp(x->stack[x->depth - 1], name)) {
                    char msg[200];
                    snprintf(msg, sizeof msg, "</%s> closes <%s>", name, x->stack[x->depth - 1]);
                    return xbad(x, msg);
                }
                x->depth--;
            } else {
                if (x->root[0] && x->depth == 0)
                    return xbad(x, "a second root element");
                if (element(x) < 0)
                    return -1;
            }
        } else if (*x->p == '&') {
            if (x->depth == 0)
                return xbad(x, "text outside the root element");
            if (entity(x) < 0)
                return -1;
        } else {
            if (x->depth == 0 && *x->p != ' ' && *x->p != '\n' && *x->p != '\r' && *x->p != '\t')
                return xbad(x, "text outside the root element");
            if (*x->p == '>' && x->p > x->s && x->p[-1] == ']' && x->p[-2] == ']')
                return xbad(x, "']]>' in text");
            x->p++;
        }
    }
    if (x->depth != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "<%s> not closed at the end", x->stack[x->depth - 1]);
        return xbad(x, msg);
    }
    if (!x->root[0])
        return xbad(x, "no root element");
    return 0;
}

static int check_svg(const char *file, const char *s)
{
    xml x;
    memset(&x, 0, sizeof x);
    x.file = file;
    x.s = s;
    x.width = x.height = -1;
    if (parse_xml(&x) < 0)
        return -1;
    if (strcmp(x.root, "svg"))
        return bad(file, "root element <%s>, not <svg>", x.root);
    if (x.width != want_w || x.height != want_h)
        return bad(file, "svg width x height %gx%g, want %dx%d", x.width, x.height, want_w, want_h);
    if (x.elements < 50 || x.paths == 0 || x.texts == 0)
        return bad(file, "trivial SVG: %ld elements, %ld paths, %ld texts", x.elements, x.paths,
                   x.texts);
    printf("%s: SVG %dx%d, %ld elements, %ld paths, %ld texts\n", file, want_w, want_h,
           x.elements, x.paths, x.texts);
    return 0;
}

static int check_file(const char *file)
{
    size_t n;
    unsigned char *b = slurp(file, &n);
    if (!b)
        return -1;
    int rc;
    size_t fl = strlen(file);
    if ((long)n < min_bytes)
        rc = bad(file, "%zu bytes, fewer than %ld", n, min_bytes);
    else if (fl > 4 && !strcmp(file + fl - 4, ".png"))
        rc = check_png(file, b, n);
    else if (fl > 4 && !strcmp(file + fl - 4, ".svg"))
        rc = check_svg(file, (const char *)b);
    else
        rc = bad(file, "neither .png nor .svg");
    free(b);
    return rc;
}

int main(int argc, char **argv)
{
    int i = 1, fails = 0;
    if (argc == 3 && !strcmp(argv[1], "--html")) {
        size_t n;
        unsigned char *b = slurp(argv[2], &n);
        if (!b)
            return 1;
        xml x;
        memset(&x, 0, sizeof x);
        x.file = argv[2];
        x.s = (const char *)b;
        x.html = 1;
        int rc = parse_xml(&x);
        if (rc == 0 && strcmp(x.root, "html"))
            rc = bad(argv[2], "root element <%s>, not <html>", x.root);
        free(b);
        return rc < 0;
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            if (sscanf(argv[++i], "%dx%d", &want_w, &want_h) != 2) {
                fprintf(stderr, "check_image: --size WxH\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--min-bytes") && i + 1 < argc) {
            min_bytes = atol(argv[++i]);
        } else {
            fprintf(stderr, "usage: check_image [--size WxH] [--min-bytes N] FILE...\n"
                            "       check_image --html FILE\n");
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "check_image: no file\n");
        return 2;
    }
    for (; i < argc; i++)
        fails += check_file(argv[i]) < 0;
    return fails ? 1 : 0;
}
