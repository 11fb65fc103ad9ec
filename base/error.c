#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *acmeh_strerror(int err) {
  switch (err) {
#define XX(name, val, cls, desc) \
  case val:                      \
    return desc;
    ACMEH_ERRNO_MAP(XX)
#undef XX
  }
  return "unknown error";
}

const char *acmeh_err_name(int err) {
  switch (err) {
#define XX(name, val, cls, desc) \
  case val:                      \
    return #name;
    ACMEH_ERRNO_MAP(XX)
#undef XX
  }
  return "UNKNOWN";
}

acmeh_errclass acmeh_err_class(int err) {
  switch (err) {
#define XX(name, val, cls, desc) \
  case val:                      \
    return ACMEH_CLASS_##cls;
    ACMEH_ERRNO_MAP(XX)
#undef XX
  }
  return ACMEH_CLASS_HARNESS;
}

int acmeh_msg(char *buf, size_t len, int err, const char *fmt, ...) {
  if (buf && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
  }
  return err;
}
