// The one place rocker reaches Node's internal handle bindings. Two hot paths use
// them to skip loading net/child_process (the container lock, starting nsexec).
// process.binding is deprecated in documentation only, and the names used are on
// its allow list. Callers check the shape they need and fall back to the public
// module when it is missing or different.
export type Binding = Record<string, any>;

export function nodeBinding(name: string): Binding | undefined {
  try {
    return (process as unknown as { binding(name: string): Binding }).binding(name);
  } catch {
    return undefined;
  }
}
