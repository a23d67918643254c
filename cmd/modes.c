/* modes: the table of modes, so get and compare find them by name. */
#include "modes.h"

#include <string.h>

static const mode_entry modes[] = {
    {"async", mode_async},
    {"threads", mode_threads},
};

const mode_entry *mode_find(const char *name)
{
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
        if (!strcmp(modes[i].name, name))
            return &modes[i];
    return NULL;
}

const char *mode_names(void)
{
    return "async, threads";
}
