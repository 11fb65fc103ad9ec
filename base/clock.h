/* Time, read through one interface so tests can use a virtual clock. */
#ifndef ACMEH_BASE_CLOCK_H
#define ACMEH_BASE_CLOCK_H

/* Monotonic seconds (arbitrary origin), for deadlines and durations. */
double acmeh_now_mono(void);

/* Wall-clock seconds since the Unix epoch. */
double acmeh_now_wall(void);

/* Sleeps `ms` milliseconds (only for bounded back-off between polls). */
void acmeh_sleep_ms(long ms);

#endif
