#include <stdio.h>
int main(void) { puts("nsexec placeholder"); return 0; }
