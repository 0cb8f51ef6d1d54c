export function FieldError({ id, messages }: { id: string; messages?: string[] }) {
  if (!messages?.length) return null;
  return (
    <span className="field-error" id={id} role="alert">
      {messages.join("; ")}
    </span>
  );
}
