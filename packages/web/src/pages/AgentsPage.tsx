// Known gap: this page is not built yet; it shows its title only.
export function AgentsPage() {
  return (
    <>
      <h1>Agents</h1>
    </>
  );
}
