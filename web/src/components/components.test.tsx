// The shared markup the e2e test and the axe check rely on: DataTable's
// header semantics, scroll wrapper, actions column and empty row; Card's
// heading and error; Form's submit without a page load; Switch's state.
import { fireEvent, render, screen, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { I18nProvider } from '../i18n/i18n';
import { Card } from './Card';
import { CountTable, DataTable } from './DataTable';
import { Field, Form, Select, Switch } from './Form';

const en = (ui: ReactNode) => render(<I18nProvider initial="en">{ui}</I18nProvider>);

describe('DataTable', () => {
  it('writes column headers with scope, numeric class, the sr-only actions header and the keyboard-scrollable wrapper', () => {
    const { container } = en(
      <DataTable testId="t" actions columns={['Name', { label: 'Count', numeric: true }]}>
        <tr>
          <td>a</td>
          <td className="num">1</td>
          <td />
        </tr>
      </DataTable>,
    );
    const wrap = container.querySelector('div.table-wrap');
    expect(wrap).not.toBeNull();
    expect(wrap?.getAttribute('tabindex')).toBe('0');
    const table = screen.getByTestId('t');
    expect(table.className).toBe('table');
    const headers = within(table).getAllByRole('columnheader');
    expect(headers.map((h) => h.getAttribute('scope'))).toEqual(['col', 'col', 'col']);
    expect(headers.map((h) => h.className)).toEqual(['', 'num', '']);
    const actions = headers[2]?.querySelector('span.sr-only');
    expect(actions?.textContent).toBe('Actions');
    expect(within(table).queryByText('nothing')).toBeNull();
  });

  it('spans the empty row over every column, the actions one included, and can go without the wrapper', () => {
    const { container } = en(
      <DataTable compact variant="heatmap" wrap={false} caption="Things" actions columns={['A', 'B']} empty="nothing">
        {null}
      </DataTable>,
    );
    expect(container.querySelector('div.table-wrap')).toBeNull();
    const table = screen.getByRole('table', { name: 'Things' });
    expect(table.className).toBe('table compact heatmap');
    const cell = within(table).getByText('nothing');
    expect(cell.getAttribute('colspan')).toBe('3');
    expect(cell.className).toBe('muted');
  });

  it('CountTable shows rows in the given order and the empty text only without rows', () => {
    const { rerender } = en(<CountTable label="Class" countLabel="Count" rows={[{ name: 'DDoS', count: 1200 }, { name: 'BENIGN', count: 3 }]} empty="none" />);
    const cells = screen.getAllByRole('cell').map((c) => c.textContent);
    expect(cells).toEqual(['DDoS', '1,200', 'BENIGN', '3']);
    expect(screen.queryByText('none')).toBeNull();
    rerender(
      <I18nProvider initial="en">
        <CountTable label="Class" countLabel="Count" rows={[]} empty="none" />
      </I18nProvider>,
    );
    expect(screen.getByText('none').getAttribute('colspan')).toBe('2');
  });
});

describe('Card, Form, Switch', () => {
  it('Card puts the error under its heading and passes section attributes through', () => {
    en(
      <Card title="Sources" error={new Error('broken')} aria-label="S" tools={<button type="button">x</button>}>
        <p>body</p>
      </Card>,
    );
    const region = screen.getByRole('region', { name: 'S' });
    expect(within(region).getByRole('heading', { level: 2 }).textContent).toBe('Sources');
    expect(within(region).getByRole('alert').textContent).toContain('broken');
    expect(within(region).getByRole('button', { name: 'x' })).toBeTruthy();
  });

  it('Form calls onSubmit once per submit and prevents the page load; Field labels its control; Select and Switch report values', () => {
    const submit = vi.fn();
    const pick = vi.fn();
    const flip = vi.fn();
    en(
      <Form onSubmit={submit}>
        <Field label="Role">
          <Select value="b" options={['a', 'b'] as const} optionLabel={(v) => v.toUpperCase()} onChange={pick} />
        </Field>
        <Switch checked={false} onChange={flip} label="Enable x" />
        <button type="submit">Go</button>
      </Form>,
    );
    const event = new Event('submit', { bubbles: true, cancelable: true });
    screen.getByRole('button', { name: 'Go' }).closest('form')?.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);
    expect(submit).toHaveBeenCalledTimes(1);
    fireEvent.change(screen.getByLabelText('Role'), { target: { value: 'a' } });
    expect(pick).toHaveBeenCalledWith('a');
    expect(screen.getByRole('option', { name: 'B' })).toBeTruthy();
    fireEvent.click(screen.getByRole('switch', { name: 'Enable x' }));
    expect(flip).toHaveBeenCalledWith(true);
    expect(screen.getByText('Off')).toBeTruthy();
  });
});
