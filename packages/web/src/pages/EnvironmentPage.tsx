// Known gap: this page is not built yet; it shows its title only.
export function EnvironmentPage({ id }: { id: string }) {
  return (
    <>
      <h1>Environment</h1>
      <p>{id}</p>
    </>
  );
}
