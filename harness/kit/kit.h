/* The check-writing kit: everything a suite's checks share, in one include.
 * Suites build on the kit and the engines, never on each other
 * (docs/architecture.md, "Layers"). */
#ifndef ACMEH_KIT_KIT_H
#define ACMEH_KIT_KIT_H

#include "harness/kit/expect.h"
#include "harness/kit/fixture.h"
#include "harness/kit/order.h"
#include "harness/kit/record.h"

#endif
