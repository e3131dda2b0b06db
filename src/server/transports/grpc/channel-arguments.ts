/** gRPC server arguments as `--grpc_channel_arguments` gives them: values that are integers become numbers. */
export type ChannelArguments = Readonly<Record<string, string | number>>;

/**
 * Parses TF Serving's `--grpc_channel_arguments` (`key=value,key=value`, e.g.
 * `grpc.max_concurrent_streams=8`). Returns the arguments, or the problems with them: a key
 * without a value, an empty key, or a key given twice.
 */
export function parseChannelArguments(text: string): { arguments: ChannelArguments; problems: string[] } {
  const args: Record<string, string | number> = {};
  const problems: string[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq).trim();
    const value = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (eq < 0 || key === '' || value === '') {
      problems.push(`--grpc_channel_arguments: "${item}" is not key=value`);
      continue;
    }
    if (key in args) {
      problems.push(`--grpc_channel_arguments: ${key} is given twice`);
      continue;
    }
    args[key] = /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }
  return { arguments: args, problems };
}
