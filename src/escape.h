/* Backslash escapes: \\ \t \n \r that keep a text field on one line and free of tabs (the formats of .weft/state and the job log), and \xHH for control bytes shown on a terminal. */
#ifndef WEFT_ESCAPE_H
#define WEFT_ESCAPE_H

struct buf;

/* Appends s to b with each byte that is in `which` (some of '\\', '\t',
 * '\n' and '\r': the format's choice) written as \\ \t \n or \r. Other
 * bytes are copied as they are. */
void escape_add(struct buf *b, const char *s, const char *which);

/* The byte that the escape '\\' c stands for, when that byte is in `which`
 * (as for escape_add); -1 when it is not, or c is not an escape letter
 * (NUL included). */
int escape_decode(char c, const char *which);

/* Appends s to b with each control byte (below 0x20 but the tab, and
 * 0x7f) written as \xHH: text weft did not write (a file name, a damaged
 * recipe) then cannot move the cursor, set the window title or break a
 * line when shown. */
void escape_controls(struct buf *b, const char *s);

#endif
