/* cli: option parsing for gather get. Every value is checked here, so the
 * rest of the program sees only valid options. */
#include "cli.h"
#include "modes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef GATHER_VERSION
#define GATHER_VERSION "0"
#endif

void cli_usage(FILE *f, int crawl)
{
    if (crawl)
        fputs(
        "Usage: gather crawl [OPTIONS] URL...\n"
        "Crawl from the seed URLs breadth-first: fetch, save and parse each\n"
        "page, then follow its links, keeping to the scope. Takes every\n"
        "option of gather get, and these:\n"
        "\n"
        "Crawl:\n"
        "  -l, --depth N           follow links N deep from the seeds (5);\n"
        "                          0: the seeds (and sitemaps) only\n"
        "  -p, --requisites        also fetch what each page embeds (images,\n"
        "                          style sheets, scripts, frames, media), at any\n"
        "                          depth\n"
        "  -D, --domains LIST      scope: these domains and their subdomains\n"
        "                          (comma-separated); default: the seeds' hosts\n"
        "      --include REGEX     only URLs matching REGEX (POSIX extended;\n"
        "                          repeatable: any of them)\n"
        "      --exclude REGEX     never URLs matching REGEX (repeatable)\n"
        "      --max-pages N       fetch at most N URLs\n"
        "      --no-robots         ignore robots.txt (obeyed by default, with\n"
        "                          its Crawl-delay and Sitemap lines)\n"
        "      --sitemap URL       also crawl the URLs of this sitemap (index,\n"
        "                          gzipped or not); repeatable\n"
        "      --sort-query        sort query parameters when deduplicating\n"
        "\n"
        "URLs are normalised (scheme and host lower-cased, default port and\n"
        "fragment dropped, dot segments resolved) and each is fetched once.\n"
        "Pages recorded by an earlier run of the same command (its --jsonl or\n"
        "OUT/.gather-journal) are not fetched again; their links are crawled.\n"
        "\n",
        f);
    fputs(
        crawl ? "Options shared with gather get:\n"
              : "Usage: gather get [OPTIONS] [URL...]\n"
        "Fetch URLs concurrently, save and parse what was fetched, and write\n"
        "one JSON record per URL.\n"
        "\n", f);
    fputs(
        "Input:\n"
        "  -i, --input FILE        URL list, one per line; '-' for stdin.\n"
        "                          Blank lines and '#' comments are skipped.\n"
        "Concurrency:\n"
        "  -m, --mode MODE         concurrency model (default async):\n"
        "                          async    one thread, curl multi + epoll\n"
        "                          threads  a thread per download\n"
        "                          procs    -j worker processes fetch+parse\n"
        "                          hybrid   event loop fetches, -P processes\n"
        "                                   parse\n"
        "                          auto     measure the first URLs, then\n"
        "                                   async or hybrid\n"
        "  -j, --jobs N            concurrent transfers (default 16)\n"
        "  -P, --procs N           parse workers (default: number of cores)\n"
        "Output:\n"
        "  -o, --output DIR        save bodies under DIR/host/path (DIR is created)\n"
        "      --jsonl FILE        write one JSON record per URL; '-': stdout\n"
        "      --records FILE      the same (for --format csv)\n"
        "      --stats FILE        write the run's summary as JSON\n"
        "      --no-parse          do not parse HTML (still hash every body)\n"
        "      --field NAME=XPATH  add field NAME to each HTML page's record:\n"
        "                          the string values of XPATH (repeatable;\n"
        "                          --xpath is the same)\n"
        "      --format FMT        records as jsonl (default) or csv: a\n"
        "                          header, then a row per URL; lists are\n"
        "                          joined with ',' inside one cell\n"
        "      --since FILE        records of an earlier run: ask with its\n"
        "                          ETag/Last-Modified; a 304 is 'unchanged'\n"
        "      --max-parse-size B  parse at most B bytes of a page (32 MiB)\n"
        "      --parse-timeout S   CPU/wall limit per parse in worker\n"
        "                          processes (procs, hybrid; default 30)\n"
        "      --parse-mem MB      memory limit per worker process (1024)\n"
        "      --progress, --no-progress, --summary, --no-summary\n"
        "                          force on/off (default: when stderr is a tty)\n"
        "Politeness:\n"
        "      --per-host N        at most N transfers at once per host\n"
        "      --delay MS          at least MS ms between starts per host\n"
        "      --jitter MS         plus up to MS ms at random\n"
        "                          (a 429 answer slows its host down too)\n"
        "Network:\n"
        "      --connect-timeout S connection timeout in seconds (30)\n"
        "      --timeout S         total time per transfer in seconds (none)\n"
        "      --max-redirs N      follow at most N redirects (10)\n"
        "  -A, --user-agent UA     User-Agent header (gather/VERSION)\n"
        "  -H, --header H          add request header H, 'Name: value'\n"
        "                          (repeatable; 'Name:' drops one curl sends)\n"
        "      --cookie-jar FILE   keep cookies: start from FILE (Netscape\n"
        "                          format) if it exists, write every cookie\n"
        "                          back at the end; in procs mode each worker\n"
        "                          keeps its own and FILE is left as it was\n"
        "      --proxy URL         proxy, [SCHEME://]HOST[:PORT]; '' for none\n"
        "                          (default: http_proxy, https_proxy and\n"
        "                          no_proxy from the environment)\n"
        "      --limit-rate RATE   at most RATE bytes/s per transfer (K/M/G)\n"
        "      --http2-prior-knowledge\n"
        "                          speak HTTP/2 to http:// servers at once\n"
        "                          (https:// asks for HTTP/2 in any case)\n"
        "      --cacert FILE       verify https:// servers with the CA\n"
        "                          certificates in FILE (PEM) instead of the\n"
        "                          system's store\n"
        "  -k, --insecure          do not verify https:// servers (neither\n"
        "                          certificate nor name): unsafe, anyone on\n"
        "                          the path can pose as the server\n"
        "      --retries N         retry transient failures N times (3)\n"
        "      --retry-delay S     first backoff in seconds, doubled each\n"
        "                          retry, plus jitter (0.5)\n"
        "      --max-retry-wait S  longest wait, Retry-After included (60)\n"
        "      --stall-timeout S   fail when no byte arrives for S s (120)\n"
        "      --max-filesize B    fail bodies over B bytes, decoded (K/M/G)\n"
        "Files and resuming:\n"
        "  -c, --continue          resume partial files with Range/If-Range\n"
        "      --overwrite         replace existing files\n"
        "      --fsync             fsync each file and its directory\n"
        "      --restart           forget the journal of an earlier run\n"
        "\n"
        "  -h, --help              show this help\n"
        "  -V, --version           show the version\n"
        "\n"
        "Exit status: 0 every URL succeeded, 1 some URLs failed, 2 usage\n"
        "error (bad option, unreadable list, unwritable output), 3 fatal.\n",
        f);
}

int cli_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

/* Parses a whole decimal integer in [min, max]. */
static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Parses a byte count with an optional K, M or G (binary) suffix. */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (errno || end == s || *s == '-')
        return -1;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    }
    if (*end || v == 0 || v > (~0ULL >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

/* Parses seconds (decimals allowed) in (0, 1e6] into milliseconds. */
static int parse_seconds(const char *s, long *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 1e6)
        return -1;
    *ms = (long)ceil(v * 1000.0);
    return 0;
}

enum {
    OPT_JSONL = 256,
    OPT_STATS,
    OPT_NO_PARSE,
    OPT_XPATH,
    OPT_MAX_PARSE,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_SUMMARY,
    OPT_NO_SUMMARY,
    OPT_CONNECT_TIMEOUT,
    OPT_TIMEOUT,
    OPT_MAX_REDIRS,
    OPT_PARSE_TIMEOUT,
    OPT_PARSE_MEM,
    OPT_RETRIES,
    OPT_RETRY_DELAY,
    OPT_MAX_RETRY_WAIT,
    OPT_STALL_TIMEOUT,
    OPT_MAX_FILESIZE,
    OPT_OVERWRITE,
    OPT_FSYNC,
    OPT_RESTART,
    OPT_COOKIE_JAR,
    OPT_PROXY,
    OPT_LIMIT_RATE,
    OPT_HTTP2_PK,
    OPT_CACERT,
    OPT_PER_HOST,
    OPT_DELAY,
    OPT_JITTER,
    OPT_FORMAT,
    OPT_SINCE,
    /* crawl only, from here */
    OPT_INCLUDE,
    OPT_EXCLUDE,
    OPT_MAX_PAGES,
    OPT_NO_ROBOTS,
    OPT_SITEMAP,
    OPT_SORT_QUERY,
};

static const struct option long_opts[] = {
    {"input", required_argument, NULL, 'i'},
    {"mode", required_argument, NULL, 'm'},
    {"jobs", required_argument, NULL, 'j'},
    {"procs", required_argument, NULL, 'P'},
    {"output", required_argument, NULL, 'o'},
    {"jsonl", required_argument, NULL, OPT_JSONL},
    {"records", required_argument, NULL, OPT_JSONL},
    {"stats", required_argument, NULL, OPT_STATS},
    {"no-parse", no_argument, NULL, OPT_NO_PARSE},
    {"xpath", required_argument, NULL, OPT_XPATH},
    {"field", required_argument, NULL, OPT_XPATH},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"since", required_argument, NULL, OPT_SINCE},
    {"per-host", required_argument, NULL, OPT_PER_HOST},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"jitter", required_argument, NULL, OPT_JITTER},
    {"max-parse-size", required_argument, NULL, OPT_MAX_PARSE},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"summary", no_argument, NULL, OPT_SUMMARY},
    {"no-summary", no_argument, NULL, OPT_NO_SUMMARY},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"max-redirs", required_argument, NULL, OPT_MAX_REDIRS},
    {"parse-timeout", required_argument, NULL, OPT_PARSE_TIMEOUT},
    {"parse-mem", required_argument, NULL, OPT_PARSE_MEM},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
    {"max-retry-wait", required_argument, NULL, OPT_MAX_RETRY_WAIT},
    {"stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT},
    {"max-filesize", required_argument, NULL, OPT_MAX_FILESIZE},
    {"overwrite", no_argument, NULL, OPT_OVERWRITE},
    {"fsync", no_argument, NULL, OPT_FSYNC},
    {"continue", no_argument, NULL, 'c'},
    {"restart", no_argument, NULL, OPT_RESTART},
    {"user-agent", required_argument, NULL, 'A'},
    {"header", required_argument, NULL, 'H'},
    {"cookie-jar", required_argument, NULL, OPT_COOKIE_JAR},
    {"proxy", required_argument, NULL, OPT_PROXY},
    {"limit-rate", required_argument, NULL, OPT_LIMIT_RATE},
    {"http2-prior-knowledge", no_argument, NULL, OPT_HTTP2_PK},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"insecure", no_argument, NULL, 'k'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    /* crawl only, from here */
    {"depth", required_argument, NULL, 'l'},
    {"requisites", no_argument, NULL, 'p'},
    {"domains", required_argument, NULL, 'D'},
    {"include", required_argument, NULL, OPT_INCLUDE},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"max-pages", required_argument, NULL, OPT_MAX_PAGES},
    {"no-robots", no_argument, NULL, OPT_NO_ROBOTS},
    {"sitemap", required_argument, NULL, OPT_SITEMAP},
    {"sort-query", no_argument, NULL, OPT_SORT_QUERY},
    {NULL, 0, NULL, 0},
};

#define GET_SHORTOPTS ":i:m:j:P:o:A:H:ckhVl:pD:"

/* The long name of the option whose val is c (the first, for aliases). */
static const char *long_name(int c)
{
    for (size_t i = 0; long_opts[i].name; i++)
        if (long_opts[i].val == c)
            return long_opts[i].name;
    return "?";
}

const struct option *cli_options(size_t *n)
{
    *n = sizeof long_opts / sizeof *long_opts - 1;
    return long_opts;
}

/* Appends s to a list of borrowed strings. */
static int push_str(char ***v, size_t *n, char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    nv[(*n)++] = s;
    *v = nv;
    return 0;
}

/* Adds the field spec "NAME=XPATH" of option opt (its long name). */
static int add_field(gather_opts *o, const char *opt, char *spec, char *err,
                     size_t errlen)
{
    char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return cli_fail(err, errlen, "--%s wants NAME=XPATH, got '%s'", opt,
                        spec);
    parse_field *f = realloc(o->fields, (o->n_fields + 1) * sizeof *f);
    if (!f)
        return cli_fail(err, errlen, "out of memory");
    o->fields = f;
    *eq = '\0'; /* argv is ours to split */
    f[o->n_fields].name = spec;
    f[o->n_fields].expr = eq + 1;
    for (size_t i = 0; i < o->n_fields; i++)
        if (!strcmp(f[i].name, spec))
            return cli_fail(err, errlen, "--%s '%s' given twice", opt, spec);
    char why[256];
    if (parse_xpath_check(eq + 1, why, sizeof why))
        return cli_fail(err, errlen, "--%s %s: %s", opt, spec, why);
    o->n_fields++;
    return 0;
}

/* RFC 9110 5.6.2: the characters of a token, which a header name is. */
static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int add_header(gather_opts *o, const char *h, char *err,
                      size_t errlen)
{
    size_t name = strcspn(h, ":");
    if (!h[name] || !name)
        return cli_fail(err, errlen, "--header wants 'Name: value', got '%s'",
                        h);
    for (size_t i = 0; i < name; i++)
        if (!is_tchar((unsigned char)h[i]))
            return cli_fail(err, errlen,
                            "--header: '%.*s' is not a header name",
                            (int)name, h);
    /* A line break would end the header early and start another. */
    if (strpbrk(h, "\r\n"))
        return cli_fail(err, errlen, "--header: a line break in '%s'", h);
    const char **v = realloc(o->headers, (o->n_headers + 1) * sizeof *v);
    if (!v)
        return cli_fail(err, errlen, "out of memory");
    o->headers = v;
    v[o->n_headers++] = h;
    return 0;
}

/* A proxy as libcurl takes it: [SCHEME://]HOST[:PORT][/], or "" for no
 * proxy at all. libcurl would only find a bad one at the first transfer,
 * and then fail every URL with it. */
static int check_proxy(const char *p)
{
    static const char *const schemes[] = {"http", "https", "socks4",
                                          "socks4a", "socks5", "socks5h"};
    const char *host = p, *sep = strstr(p, "://");
    if (!*p)
        return 0;
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return -1;
    if (sep) {
        size_t n = (size_t)(sep - p), i;
        for (i = 0; i < sizeof schemes / sizeof *schemes; i++)
            if (strlen(schemes[i]) == n && !strncasecmp(p, schemes[i], n))
                break;
        if (i == sizeof schemes / sizeof *schemes)
            return -1;
        host = sep + 3;
    }
    return *host && *host != ':' && *host != '/' ? 0 : -1;
}

/* A file libcurl can read certificates from: a regular file we may open.
 * libcurl would only find out at the first https:// transfer, and then
 * fail every URL with it. Returns 0, or -1 with the reason in why. */
static int check_readable(const char *path, char *why, size_t cap)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = -1;
    if (fd < 0) {
        snprintf(why, cap, "%s", strerror(errno));
        goto out;
    }
    if (fstat(fd, &st)) {
        snprintf(why, cap, "%s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, cap, "not a regular file");
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

int cli_parse_get(int argc, char **argv, int crawl, gather_opts *o,
                  char *err, size_t errlen)
{
    int c, li;
    long v;
    char why[256];
    memset(o, 0, sizeof *o);
    o->crawl = crawl;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, GET_SHORTOPTS, long_opts,
                            &li)) != -1) {
        /* The crawl-only options are errors for get, not unknowns. */
        int crawl_only = c == 'l' || c == 'p' || c == 'D' ||
                         (c >= OPT_INCLUDE && c <= OPT_SORT_QUERY);
        if (crawl_only && !crawl)
            return cli_fail(err, errlen, "--%s is an option of gather crawl",
                            long_name(c));
        switch (c) {
        case 'i':
            o->input = optarg;
            break;
        case 'm':
            if (!mode_find(optarg))
                return cli_fail(err, errlen, "unknown mode '%s' (modes: %s)",
                            optarg, mode_names());
            o->mode = optarg;
            break;
        case 'j':
            if (parse_long(optarg, 1, 100000, &o->jobs))
                return cli_fail(err, errlen,
                            "--jobs wants a number from 1 to 100000, got '%s'",
                            optarg);
            break;
        case 'P':
            if (parse_long(optarg, 1, 1024, &o->procs))
                return cli_fail(err, errlen,
                            "--procs wants a number from 1 to 1024, got '%s'",
                            optarg);
            break;
        case 'o':
            if (!*optarg)
                return cli_fail(err, errlen, "--output wants a directory");
            o->outdir = optarg;
            break;
        case 'A':
            o->user_agent = optarg;
            break;
        case 'H':
            if (add_header(o, optarg, err, errlen))
                return EXIT_USAGE;
            break;
        case OPT_COOKIE_JAR:
            if (!*optarg)
                return cli_fail(err, errlen, "--cookie-jar wants a file");
            o->cookie_jar = optarg;
            break;
        case OPT_PROXY:
            if (check_proxy(optarg))
                return cli_fail(err, errlen,
                            "--proxy wants [SCHEME://]HOST[:PORT] (SCHEME: "
                            "http, https, socks4, socks4a, socks5, socks5h) "
                            "or '', got '%s'", optarg);
            o->proxy = optarg;
            break;
        case OPT_LIMIT_RATE:
            if (parse_size(optarg, &o->limit_rate))
                return cli_fail(err, errlen,
                            "--limit-rate wants bytes per second (K, M, G "
                            "suffixes allowed) > 0, got '%s'", optarg);
            break;
        case OPT_HTTP2_PK:
            o->http2_prior_knowledge = 1;
            break;
        case OPT_CACERT:
            if (check_readable(optarg, why, sizeof why))
                return cli_fail(err, errlen, "--cacert %s: %s", optarg, why);
            o->cacert = optarg;
            break;
        case 'k':
            o->insecure = 1;
            break;
        case OPT_JSONL:
            o->jsonl = optarg;
            break;
        case OPT_STATS:
            o->stats = optarg;
            break;
        case OPT_NO_PARSE:
            o->no_parse = 1;
            break;
        case OPT_XPATH:
            /* Messages name the option as given: --field or --xpath. */
            if (add_field(o, long_opts[li].name, optarg, err, errlen))
                return EXIT_USAGE;
            break;
        case OPT_MAX_PARSE:
            if (parse_long(optarg, 1, 1L << 30, &v))
                return cli_fail(err, errlen,
                            "--max-parse-size wants bytes from 1 to 1 GiB, "
                            "got '%s'", optarg);
            o->max_parse_bytes = (size_t)v;
            break;
        case OPT_PROGRESS:
        case OPT_NO_PROGRESS:
            o->progress = c == OPT_PROGRESS ? 1 : -1;
            break;
        case OPT_SUMMARY:
        case OPT_NO_SUMMARY:
            o->summary = c == OPT_SUMMARY ? 1 : -1;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (parse_seconds(optarg, &o->connect_timeout_ms))
                return cli_fail(err, errlen,
                            "--connect-timeout wants seconds > 0, got '%s'",
                            optarg);
            break;
        case OPT_TIMEOUT:
            if (parse_seconds(optarg, &o->timeout_ms))
                return cli_fail(err, errlen,
                            "--timeout wants seconds > 0, got '%s'", optarg);
            break;
        case OPT_MAX_REDIRS:
            if (parse_long(optarg, 0, 1000, &v))
                return cli_fail(err, errlen,
                            "--max-redirs wants a number from 0 to 1000, "
                            "got '%s'", optarg);
            o->max_redirs = v ? v : -1;
            break;
        case OPT_PARSE_TIMEOUT:
            if (parse_seconds(optarg, &o->parse_timeout_ms))
                return cli_fail(err, errlen,
                            "--parse-timeout wants seconds > 0, got '%s'",
                            optarg);
            break;
        case OPT_PARSE_MEM:
            if (parse_long(optarg, 16, 1L << 20, &o->parse_mem_mb))
                return cli_fail(err, errlen,
                            "--parse-mem wants MiB from 16 to 1048576, "
                            "got '%s'", optarg);
            break;
        case OPT_RETRIES:
            if (parse_long(optarg, 0, 100, &v))
                return cli_fail(err, errlen,
                            "--retries wants a number from 0 to 100, got '%s'",
                            optarg);
            o->retries = v ? v : -1;
            break;
        case OPT_RETRY_DELAY:
            if (parse_seconds(optarg, &o->retry_delay_ms))
                return cli_fail(err, errlen,
                            "--retry-delay wants seconds > 0, got '%s'",
                            optarg);
            break;
        case OPT_MAX_RETRY_WAIT:
            if (parse_seconds(optarg, &o->max_retry_wait_ms))
                return cli_fail(err, errlen,
                            "--max-retry-wait wants seconds > 0, got '%s'",
                            optarg);
            break;
        case OPT_STALL_TIMEOUT:
            if (parse_seconds(optarg, &o->stall_timeout_ms))
                return cli_fail(err, errlen,
                            "--stall-timeout wants seconds > 0, got '%s'",
                            optarg);
            break;
        case OPT_MAX_FILESIZE:
            if (parse_size(optarg, &o->max_filesize))
                return cli_fail(err, errlen,
                            "--max-filesize wants bytes (K, M, G suffixes "
                            "allowed) > 0, got '%s'", optarg);
            break;
        case OPT_OVERWRITE:
            o->overwrite = 1;
            break;
        case OPT_FSYNC:
            o->fsync = 1;
            break;
        case 'c':
            o->resume = 1;
            break;
        case OPT_RESTART:
            o->restart = 1;
            break;
        case OPT_PER_HOST:
            if (parse_long(optarg, 1, 100000, &o->per_host))
                return cli_fail(err, errlen, "--per-host wants a number from "
                                "1 to 100000, got '%s'", optarg);
            break;
        case OPT_DELAY:
        case OPT_JITTER:
            if (parse_long(optarg, 0, 3600000,
                           c == OPT_DELAY ? &o->delay_ms : &o->jitter_ms))
                return cli_fail(err, errlen, "--%s wants milliseconds from 0 "
                                "to 3600000, got '%s'",
                                c == OPT_DELAY ? "delay" : "jitter", optarg);
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "jsonl") && strcmp(optarg, "csv"))
                return cli_fail(err, errlen, "--format wants jsonl or csv, "
                                "got '%s'", optarg);
            o->csv = !strcmp(optarg, "csv");
            break;
        case OPT_SINCE:
            o->since = optarg;
            break;
        case 'l':
            if (parse_long(optarg, 0, 1000, &v))
                return cli_fail(err, errlen, "--depth wants a number from 0 "
                                "to 1000, got '%s'", optarg);
            o->depth = v ? v : -1;
            break;
        case 'p':
            o->requisites = 1;
            break;
        case 'D':
            for (char *save = NULL, *d = strtok_r(optarg, ",", &save); d;
                 d = strtok_r(NULL, ",", &save))
                if (push_str(&o->domains, &o->n_domains, d))
                    return cli_fail(err, errlen, "out of memory");
            if (!o->n_domains)
                return cli_fail(err, errlen, "--domains wants a list of "
                                "domains, got '%s'", optarg);
            break;
        case OPT_INCLUDE:
        case OPT_EXCLUDE:
            if (c == OPT_INCLUDE
                    ? push_str(&o->include, &o->n_include, optarg)
                    : push_str(&o->exclude, &o->n_exclude, optarg))
                return cli_fail(err, errlen, "out of memory");
            break;
        case OPT_MAX_PAGES:
            if (parse_long(optarg, 1, LONG_MAX, &o->max_pages))
                return cli_fail(err, errlen, "--max-pages wants a number "
                                "> 0, got '%s'", optarg);
            break;
        case OPT_NO_ROBOTS:
            o->no_robots = 1;
            break;
        case OPT_SITEMAP:
            if (push_str(&o->sitemaps, &o->n_sitemaps, optarg))
                return cli_fail(err, errlen, "out of memory");
            break;
        case OPT_SORT_QUERY:
            o->sort_query = 1;
            break;
        case 'h':
            cli_usage(stdout, crawl);
            return -1;
        case 'V':
            printf("gather %s\n", GATHER_VERSION);
            return -1;
        case ':':
            return cli_fail(err, errlen, "option %s needs a value",
                        argv[optind - 1]);
        default:
            return cli_fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
        }
    }
    o->urls = argv + optind;
    o->n_urls = argc - optind;
    if (crawl) {
        if (o->input)
            return cli_fail(err, errlen, "gather crawl takes seed URLs on "
                            "the command line, not -i");
        if (!o->n_urls && !o->n_sitemaps)
            return cli_fail(err, errlen, "no seed URLs: give URLs or "
                            "--sitemap URL");
    } else if (!o->input && !o->n_urls) {
        return cli_fail(err, errlen, "no URLs: give -i FILE or URLs");
    }
    return 0;
}

void cli_free_opts(gather_opts *o)
{
    free(o->fields);
    free(o->domains);
    free(o->include);
    free(o->exclude);
    free(o->sitemaps);
    free(o->headers);
    memset(o, 0, sizeof *o);
}
