// Known gap: this page is not built yet; it shows its title only.
export function AgentPage({ id }: { id: string }) {
  return (
    <>
      <h1>Agent</h1>
      <p>{id}</p>
    </>
  );
}
