/**
 * Go's `strconv.ParseBool`, which Istio uses for annotations such as `istio.io/dry-run`:
 * `1 t T TRUE true True` and `0 f F FALSE false False`; anything else is `undefined`.
 */
export function parseBool(value: string): boolean | undefined {
  switch (value) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false;
    default:
      return undefined;
  }
}
