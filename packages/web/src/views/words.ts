/** `1 record`, `2 records`: a count with its noun in the right number. */
export function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
