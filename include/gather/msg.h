/*
 * msg: the one way to say something on stderr.  Each call writes one whole
 * line, "gather: " and the text, with control bytes and backslashes in it
 * escaped, so that a URL, a file name or a server's message can neither
 * move the cursor nor forge a line of its own.
 */
#ifndef GATHER_MSG_H
#define GATHER_MSG_H

void	 msg_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 msg_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 msg_note(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 msg_nomem(void);
void	 msg_nomem_hold(void);
int	 msg_nomem_said(void);
int	 msg_refuse(const char *, int);

#endif
